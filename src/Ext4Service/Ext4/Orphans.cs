using System.Buffers.Binary;
using System.Collections.Concurrent;
using Safemount.Ext4.Format;
using L = Safemount.Ext4.Format.InodeLayout;

namespace Safemount.Ext4;

/// <summary>
/// The orphan list (kernel: fs/ext4/orphan.c, the s_last_orphan chain): inodes whose blocks or
/// whole existence must be released even across a crash — unlinked files still open, O_TMPFILE
/// files. On disk it is a singly linked chain: s_last_orphan names the newest orphan and each
/// orphan's i_dtime names the next (0 ends it). In memory <see cref="_next"/> mirrors the chain.
///
/// Lock order: <see cref="_lock"/> is taken after the handle and before allocator group locks
/// (serializing chain edits). <see cref="_next"/> is a concurrent map so that
/// <see cref="Inodes.Write"/> can read it inside a block edit (under a stripe lock) without this
/// lock: chain edits update the map first and patch i_dtime afterwards, so an inode written
/// concurrently ends with the newest pointer either way.
/// </summary>
internal sealed class Orphans
{
    private readonly Ext4Volume _v;
    private readonly Lock _lock = new();
    private readonly ConcurrentDictionary<uint, uint> _next = new(); // orphan -> next orphan (its on-disk i_dtime)
    private uint _head;                                              // s_last_orphan; guarded by _lock

    public Orphans(Ext4Volume volume, uint head)
    {
        _v = volume;
        _head = head;
    }

    /// <summary>Number of orphans known in memory.</summary>
    public int Count => _next.Count;

    /// <summary>True and the on-disk successor when <paramref name="ino"/> is on the list (any thread, no lock).</summary>
    public bool TryGetNext(uint ino, out uint next) => _next.TryGetValue(ino, out next);

    /// <summary>
    /// Puts <paramref name="ino"/> at the head of the chain (ext4_orphan_add). The caller holds the
    /// inode's lock exclusive; adding an inode already on the list does nothing.
    /// </summary>
    public void Add(Ext4Transaction tx, uint ino)
    {
        lock (_lock)
        {
            if (_next.ContainsKey(ino))
            {
                return;
            }

            uint next = _head;
            _next[ino] = next;
            PatchDtime(tx, ino, next);
            _head = ino;
            _v.SetLastOrphan(tx, ino);
        }
    }

    /// <summary>
    /// Takes <paramref name="ino"/> off the chain (ext4_orphan_del): its predecessor (or
    /// s_last_orphan) skips it and its own i_dtime is cleared. The caller holds the inode's lock
    /// exclusive. Returns false when it was not on the list.
    /// </summary>
    public bool Remove(Ext4Transaction tx, uint ino)
    {
        lock (_lock)
        {
            if (!_next.TryGetValue(ino, out uint next))
            {
                return false;
            }

            if (_head == ino)
            {
                _head = next;
                _v.SetLastOrphan(tx, next);
            }
            else
            {
                uint prev = 0;
                foreach (var (candidate, successor) in _next)
                {
                    if (successor == ino)
                    {
                        prev = candidate;
                        break;
                    }
                }

                if (prev == 0)
                {
                    throw new Ext4CorruptionException($"orphan inode {ino} has no predecessor on the orphan list");
                }

                _next[prev] = next;
                PatchDtime(tx, prev, next);
            }

            _next.TryRemove(ino, out _);
            PatchDtime(tx, ino, 0);
            return true;
        }
    }

    /// <summary>The orphans known in memory, newest first.</summary>
    public List<uint> Snapshot()
    {
        lock (_lock)
        {
            var chain = new List<uint>(_next.Count);
            for (uint ino = _head; ino != 0 && _next.TryGetValue(ino, out uint next) && chain.Count <= _next.Count;)
            {
                chain.Add(ino);
                ino = next;
            }

            return chain;
        }
    }

    /// <summary>
    /// Walks the on-disk chain from s_last_orphan (mount time, before any handle), checking every
    /// link: a number outside the inode table or below s_first_ino, or a loop, is corruption (the
    /// kernel's ext4_orphan_get refuses the same). Records each orphan in memory and returns them
    /// newest first.
    /// </summary>
    public List<uint> Load()
    {
        var chain = new List<uint>();
        var seen = new HashSet<uint>();
        uint firstIno = _v.Sb.s_rev_level == 0 ? Directories.GoodOldFirstIno : _v.Sb.s_first_ino;
        lock (_lock)
        {
            for (uint ino = _head; ino != 0;)
            {
                if (ino < firstIno || ino > _v.Sb.s_inodes_count)
                {
                    throw new Ext4CorruptionException($"orphan list: bad inode number {ino}");
                }

                if (!seen.Add(ino))
                {
                    throw new Ext4CorruptionException($"orphan list: inode {ino} appears twice (a loop)");
                }

                uint next = BinaryPrimitives.ReadUInt32LittleEndian(_v.ReadInode(ino).Raw.AsSpan(L.i_dtime));
                _next[ino] = next;
                chain.Add(ino);
                ino = next;
            }
        }

        return chain;
    }

    /// <summary>Sets i_dtime of <paramref name="ino"/> in its inode-table block and re-seals the inode checksum (no other field changes).</summary>
    private void PatchDtime(Ext4Transaction tx, uint ino, uint value) =>
        _v.Inodes.Patch(tx, ino, raw => BinaryPrimitives.WriteUInt32LittleEndian(raw[L.i_dtime..], value));
}
