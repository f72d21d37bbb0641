namespace Safemount.Ext4;

/// <summary>
/// One reader/writer lock per inode in use, created on demand and dropped when its last holder
/// releases it (lock order level 1, see Ext4Volume.Commit.cs). Readers of an inode's metadata
/// take it shared, every change takes it exclusive. Not recursive: a thread never takes the same
/// inode twice. <see cref="_lock"/> guards the table only and is never held while waiting for an
/// inode lock.
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
                e.Lock.EnterWriteLock();
            }
            else
            {
                e.Lock.EnterReadLock();
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
                e.Lock.Dispose();
            }
        }
    }

    internal sealed class Entry
    {
        public readonly ReaderWriterLockSlim Lock = new(LockRecursionPolicy.NoRecursion);
        public int Users; // guarded by InodeLockTable._lock
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
                _entry.Lock.ExitWriteLock();
            }
            else
            {
                _entry.Lock.ExitReadLock();
            }

            _table.Release(_ino, _entry);
        }
    }
}
