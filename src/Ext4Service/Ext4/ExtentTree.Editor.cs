using Safemount.Ext4.Allocation;
using Safemount.Ext4.Format;
using X = Safemount.Ext4.Format.ExtentLayout;

namespace Safemount.Ext4;

internal static partial class ExtentTree
{
    /// <summary>
    /// Edits an extent-mapped inode (kernel: extents.c). The whole leaf level is loaded into
    /// a list (<see cref="LoadAll(Ext4Volume, uint, uint, ReadOnlySpan{byte}, List{ulong}, List{ulong})"/>,
    /// through <see cref="ExtentCache"/>), edited there (<see cref="InsertExtent"/>,
    /// <see cref="RemoveRange"/>, <see cref="SetUnwritten(List{Extent}, uint, ulong, bool, List{Extent})"/>),
    /// and <see cref="Commit"/> stores it back as the shallowest tree that holds it: up to 4
    /// extents in i_block at depth 0; else full leaves of BlockCapacity entries, and full index
    /// levels above them until at most 4 entries remain for the root. That one rule gives leaf
    /// splits, index inserts, depth growth and depth shrinking. Existing tree blocks are reused
    /// in order (leaves for leaves first) and a block whose new contents equal its current ones
    /// is not written, so appending touches only the last leaf and the path to it. Every tree
    /// block written carries its ext4_extent_tail checksum (metadata_csum), and every index key
    /// equals the first logical block of its subtree (as ext4_ext_correct_indexes keeps it).
    /// Cost: O(extents) per operation.
    /// </summary>
    internal sealed class Editor : FileData.MappingEditor
    {
        private readonly List<Extent> _extents;
        private readonly List<ulong> _leafBlocks = new();
        private readonly List<ulong> _indexBlocks = new();
        private readonly List<Extent> _pendingFrees = new();
        private readonly uint _seed;
        private bool _dirty;

        public Editor(Ext4Volume volume, InodeRecord record)
            : base(volume, record)
        {
            _seed = InodeChecksumSeed(volume, record.Number, record.Generation);
            _extents = volume.Extents.Load(record.Number, _seed, record.IBlock, _leafBlocks, _indexBlocks);
        }

        /// <summary>The current extents (the edited list).</summary>
        public IReadOnlyList<Extent> Extents => _extents;

        public override bool SupportsUnwritten => true;

        public override ulong LogicalLimit => 1UL << 32;

        public override BlockRun Map(uint lblk, uint maxBlocks) =>
            MapSorted(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_extents), lblk, maxBlocks);

        public override ulong Goal(uint lblk)
        {
            // ext4_ext_find_goal: extrapolate from the nearest extent at or before lblk.
            int i = FirstEndingAfter(_extents, lblk);
            if (i < _extents.Count && _extents[i].Logical <= lblk)
            {
                return _extents[i].Physical + (lblk - _extents[i].Logical);
            }

            if (i > 0)
            {
                var e = _extents[i - 1];
                ulong goal = e.Physical + (lblk - e.Logical);
                if (goal < V.Sb.s_blocks_count)
                {
                    return goal;
                }
            }

            return FileData.InodeGoal(V, Record.Number, Record.Mode);
        }

        public override Ext4Errno MapNew(Ext4Transaction tx, uint lblk, uint count, ulong physical, bool unwritten, out uint mapped)
        {
            InsertExtent(_extents, new Extent(lblk, count, physical, unwritten));
            BlocksDelta += count;
            _dirty = true;
            mapped = count;
            return Ext4Errno.None;
        }

        public override Ext4Errno Remove(Ext4Transaction tx, uint start, ulong count)
        {
            int before = _pendingFrees.Count;
            RemoveRange(_extents, start, count, _pendingFrees);
            _dirty |= _pendingFrees.Count != before;
            return Ext4Errno.None;
        }

        public override void SetUnwritten(uint start, ulong count, bool unwritten, List<Extent> changed)
        {
            int before = changed.Count;
            ExtentTree.SetUnwritten(_extents, start, count, unwritten, changed);
            _dirty |= changed.Count != before;
        }

        public override Ext4Errno Commit(Ext4Transaction tx)
        {
            if (!_dirty)
            {
                return Ext4Errno.None;
            }

            var err = Store(tx);
            if (err != Ext4Errno.None)
            {
                return err;
            }

            foreach (var e in _pendingFrees)
            {
                FreeData(tx, e.Physical, e.Length);
            }

            _pendingFrees.Clear();
            _dirty = false;
            return Ext4Errno.None;
        }

        /// <summary>Writes the list as the shallowest full-packed tree (see the class summary).</summary>
        private Ext4Errno Store(Ext4Transaction tx)
        {
            int cap = BlockCapacity(V.BlockSize);
            // Node counts per block level, leaves first; empty when the root holds the extents.
            var levels = new List<int>();
            int m = _extents.Count;
            while (m > RootCapacity)
            {
                m = (m + cap - 1) / cap;
                levels.Add(m);
            }

            if (levels.Count > X.MaxDepth)
            {
                throw new InvalidOperationException($"inode {Record.Number}: {_extents.Count} extents need a tree deeper than {X.MaxDepth}");
            }

            int need = levels.Sum();
            var pool = new List<ulong>(_leafBlocks.Count + _indexBlocks.Count);
            pool.AddRange(_leafBlocks);
            pool.AddRange(_indexBlocks);
            var fresh = new HashSet<ulong>();
            if (need > pool.Count)
            {
                ulong goal = _extents.Count > 0 ? _extents[^1].Physical + _extents[^1].Length : FileData.InodeGoal(V, Record.Number, Record.Mode);
                if (goal >= V.Sb.s_blocks_count)
                {
                    goal = 0;
                }

                while (need > pool.Count)
                {
                    var err = V.BlockAllocator.Allocate(tx, goal, (uint)(need - pool.Count), AllocationRights.Reserved, out ulong s, out uint n);
                    if (err != Ext4Errno.None)
                    {
                        foreach (ulong b in fresh)
                        {
                            V.BlockAllocator.Free(tx, b, 1);
                        }

                        return err;
                    }

                    for (uint k = 0; k < n; k++)
                    {
                        pool.Add(s + k);
                        fresh.Add(s + k);
                    }

                    goal = s + n;
                }
            }

            // Level 0: extents into leaves (or the root).
            int used = 0;
            var keys = new List<uint>();
            var blocks = new List<ulong>();
            if (levels.Count == 0)
            {
                WriteRoot(0, _extents.Count, (node, i) => WriteExtent(node, i, _extents[i]));
            }
            else
            {
                for (int leaf = 0; leaf < levels[0]; leaf++)
                {
                    int from = leaf * cap;
                    int count = Math.Min(cap, _extents.Count - from);
                    ulong block = pool[used++];
                    WriteBlock(tx, block, fresh.Contains(block), 0, count, cap, (node, i) => WriteExtent(node, i, _extents[from + i]));
                    keys.Add(_extents[from].Logical);
                    blocks.Add(block);
                }

                for (int level = 1; level <= levels.Count; level++)
                {
                    var childKeys = keys;
                    var childBlocks = blocks;
                    if (level == levels.Count)
                    {
                        WriteRoot(level, childKeys.Count, (node, i) => WriteIndex(node, i, childKeys[i], childBlocks[i]));
                        break;
                    }

                    keys = new List<uint>();
                    blocks = new List<ulong>();
                    for (int idx = 0; idx < levels[level]; idx++)
                    {
                        int from = idx * cap;
                        int count = Math.Min(cap, childKeys.Count - from);
                        ulong block = pool[used++];
                        WriteBlock(tx, block, fresh.Contains(block), level, count, cap,
                            (node, i) => WriteIndex(node, i, childKeys[from + i], childBlocks[from + i]));
                        keys.Add(childKeys[from]);
                        blocks.Add(block);
                    }
                }
            }

            // Tree blocks no longer needed.
            for (int i = used; i < pool.Count; i++)
            {
                tx.Forget(pool[i]);
                V.BlockAllocator.Free(tx, pool[i], 1);
            }

            BlocksDelta += used - (_leafBlocks.Count + _indexBlocks.Count);
            _leafBlocks.Clear();
            _indexBlocks.Clear();
            if (levels.Count > 0)
            {
                _leafBlocks.AddRange(pool.Take(levels[0]));
                _indexBlocks.AddRange(pool.Skip(levels[0]).Take(used - levels[0]));
            }

            return Ext4Errno.None;
        }

        private void WriteRoot(int depth, int entries, Action<Span<byte>, int> fill)
        {
            Span<byte> root = Record.IBlock;
            root.Clear();
            WriteHeader(root, entries, RootCapacity, depth);
            for (int i = 0; i < entries; i++)
            {
                fill(root, i);
            }
        }

        private void WriteBlock(Ext4Transaction tx, ulong block, bool isNew, int depth, int entries, int cap, Action<Span<byte>, int> fill)
        {
            var content = new byte[V.BlockSize];
            WriteHeader(content, entries, cap, depth);
            for (int i = 0; i < entries; i++)
            {
                fill(content, i);
            }

            if (V.HasMetadataCsum)
            {
                SetTailChecksum(content, _seed);
            }

            string what = $"inode {Record.Number} extent tree block (depth {depth})";
            if (isNew)
            {
                tx.Create(block, what, span => content.CopyTo(span));
            }
            else if (!V.Cache.Get(block).AsSpan().SequenceEqual(content))
            {
                tx.Modify(block, what, span => content.CopyTo(span));
            }
        }
    }

    /// <summary>The inode's metadata checksum seed: crc32c(crc32c(s_csum_seed, le32 ino), le32 i_generation) (ext4_inode_csum_seed).</summary>
    internal static uint InodeChecksumSeed(Ext4Volume v, uint ino, uint generation) =>
        Crc32c.AppendLe32(Crc32c.AppendLe32(v.CsumSeed, ino), generation);
}
