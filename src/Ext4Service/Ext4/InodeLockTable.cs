namespace Safemount.Ext4;

/// <summary>
/// One reader/writer lock per inode in use, created on demand and dropped when its last holder
/// releases it (lock order level 1, see Ext4Volume.Commit.cs). Readers of an inode's metadata
/// take it shared, every change takes it exclusive. Not recursive: a thread never takes the same
/// inode twice. <see cref="_lock"/> guards the table only and is never held while waiting for an
/// inode lock. The per-inode lock blocks instead of spinning (a FUSE writeback burst sends many
/// WRITEs of one inode to several workers at once; ReaderWriterLockSlim's spin-then-yield made
/// the waiters burn CPU, a sixth of the service's time in a random-write profile, bench/RESULTS.md
/// run 8b) and prefers writers, as ReaderWriterLockSlim does.
/// </summary>
internal sealed class InodeLockTable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<uint, Entry> _entries = new(); // guarded by _lock

    /// <summary>Takes inode <paramref name="ino"/>'s lock; dispose the result on the same thread to release it.</summary>
    public Holder Acquire(uint ino, bool exclusive)
    {
        Entry e;
        lock (_lock)
        {
            if (!_entries.TryGetValue(ino, out e!))
            {
                e = new Entry();
                _entries.Add(ino, e);
            }

            e.Users++;
        }

        try
        {
            if (exclusive)
            {
                e.EnterWrite();
            }
            else
            {
                e.EnterRead();
            }
        }
        catch
        {
            Release(ino, e);
            throw;
        }

        return new Holder(this, ino, e, exclusive);
    }

    /// <summary>Number of inodes with a lock object now (tests: nothing leaks).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    private void Release(uint ino, Entry e)
    {
        lock (_lock)
        {
            if (--e.Users == 0)
            {
                _entries.Remove(ino);
            }
        }
    }

    /// <summary>
    /// One inode's reader/writer lock: a monitor over the counts below (held only to change them,
    /// never while the caller works). A reader waits while a writer holds or waits; a writer
    /// waits while anyone holds.
    /// </summary>
    internal sealed class Entry
    {
        private readonly object _changed = new(); // Monitor.Wait/PulseAll under the monitor of itself
        private int _readers;        // guarded by _changed's monitor
        private bool _writer;        // guarded by _changed's monitor
        private int _waitingWriters; // guarded by _changed's monitor

        public int Users; // guarded by InodeLockTable._lock

        public void EnterRead()
        {
            lock (_changed)
            {
                while (_writer || _waitingWriters > 0)
                {
                    Monitor.Wait(_changed);
                }

                _readers++;
            }
        }

        public void ExitRead()
        {
            lock (_changed)
            {
                if (--_readers == 0 && _waitingWriters > 0)
                {
                    Monitor.PulseAll(_changed);
                }
            }
        }

        public void EnterWrite()
        {
            lock (_changed)
            {
                _waitingWriters++;
                try
                {
                    while (_writer || _readers > 0)
                    {
                        Monitor.Wait(_changed);
                    }

                    _writer = true;
                }
                finally
                {
                    _waitingWriters--;
                    if (!_writer)
                    {
                        // Interrupted while waiting: readers held back for this writer may go.
                        Monitor.PulseAll(_changed);
                    }
                }
            }
        }

        public void ExitWrite()
        {
            lock (_changed)
            {
                _writer = false;
                Monitor.PulseAll(_changed);
            }
        }
    }

    /// <summary>A held inode lock.</summary>
    public readonly struct Holder : IDisposable
    {
        private readonly InodeLockTable _table;
        private readonly uint _ino;
        private readonly Entry _entry;
        private readonly bool _exclusive;

        internal Holder(InodeLockTable table, uint ino, Entry entry, bool exclusive)
        {
            _table = table;
            _ino = ino;
            _entry = entry;
            _exclusive = exclusive;
        }

        public void Dispose()
        {
            if (_table is null)
            {
                return;
            }

            if (_exclusive)
            {
                _entry.ExitWrite();
            }
            else
            {
                _entry.ExitRead();
            }

            _table.Release(_ino, _entry);
        }
    }
}
