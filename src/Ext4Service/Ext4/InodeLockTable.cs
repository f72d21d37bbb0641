namespace Safemount.Ext4;

/// <summary>
/// One reader/writer lock per inode in use, created on demand and dropped when its last holder
/// releases it (lock order level 1, see Ext4Volume.Commit.cs). Readers of an inode's metadata
/// take it shared, every change takes it exclusive. Not recursive: a thread never takes the same
/// inode twice. <see cref="_lock"/> guards the table only and is never held while waiting for an
/// inode lock. Like every lock here, an inode lock is released on the thread that took it.
/// </summary>
internal sealed class InodeLockTable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<uint, Entry> _entries = new(); // guarded by _lock

    /// <summary>
    /// The inode locks this thread holds (a handful at most: rename takes four), so that taking
    /// one again fails at once with LockRecursionException, as ReaderWriterLockSlim's
    /// NoRecursion did, instead of deadlocking behind a waiting writer.
    /// </summary>
    [ThreadStatic]
    private static List<Entry>? t_held;

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

        var held = t_held ??= new List<Entry>();
        try
        {
            if (held.Contains(e))
            {
                throw new LockRecursionException($"inode {ino}'s lock is already held by this thread");
            }

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

        held.Add(e);
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
    /// One inode's reader/writer lock. A writer holds <see cref="_gate"/> for its whole hold and
    /// then waits for the readers already in to leave; a reader holds the gate only while it
    /// registers, so it waits while a writer holds or waits (writers preferred, as
    /// ReaderWriterLockSlim). Writers queue on a <see cref="Lock"/>, which parks waiters instead
    /// of spinning them through ReaderWriterLockSlim's spin-and-yield loop: a FUSE writeback
    /// burst hands many WRITEs of one inode to several workers at once, and that loop was a
    /// sixth of the service's CPU time in a random-write profile (bench/RESULTS.md run 8b).
    /// </summary>
    internal sealed class Entry
    {
        private readonly Lock _gate = new();
        private readonly object _drained = new(); // a writer waits on its monitor for _readers == 0
        private int _readers;                     // shared holders: incremented under _gate, decremented anywhere

        public int Users; // guarded by InodeLockTable._lock

        public void EnterRead()
        {
            _gate.Enter();
            Interlocked.Increment(ref _readers);
            _gate.Exit();
        }

        public void ExitRead()
        {
            if (Interlocked.Decrement(ref _readers) == 0)
            {
                // A writer that saw readers checks again under this monitor before it waits, so
                // the pulse cannot fall between its check and its wait.
                lock (_drained)
                {
                    Monitor.PulseAll(_drained);
                }
            }
        }

        public void EnterWrite()
        {
            _gate.Enter();
            if (Volatile.Read(ref _readers) == 0)
            {
                return;
            }

            try
            {
                lock (_drained)
                {
                    while (Volatile.Read(ref _readers) != 0)
                    {
                        Monitor.Wait(_drained);
                    }
                }
            }
            catch
            {
                _gate.Exit();
                throw;
            }
        }

        public void ExitWrite() => _gate.Exit();
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

            t_held?.Remove(_entry);
            _table.Release(_ino, _entry);
        }
    }
}
