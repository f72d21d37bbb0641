using System.Buffers.Binary;
using Safemount.Ext4.Allocation;
using static Safemount.Ext4.Format.LittleEndian;

namespace Safemount.Ext4;

internal static partial class BlockMap
{
    /// <summary>
    /// Edits an ext2/ext3 indirect block map in place (kernel: indirect.c, ext4_ind_map_blocks
    /// with EXT4_GET_BLOCKS_CREATE, ext4_ind_truncate / ext4_ind_remove_space). Pointers are
    /// written as they change (nothing is pending at <see cref="Commit"/>); a missing indirect
    /// block is allocated next to the data it will point at, zero-filled, before the pointer
    /// to it is set. Removal frees data blocks and every indirect block left all-zero by it.
    /// No unwritten state exists in this format. Block numbers are 32 bits.
    /// </summary>
    internal sealed class Editor : FileData.MappingEditor
    {
        private readonly uint _perBlock;
        private ulong _freeStart;  // pending run of data blocks to free (batched), count 0 = none
        private uint _freeCount;

        public Editor(Ext4Volume volume, InodeRecord record)
            : base(volume, record)
        {
            _perBlock = volume.BlockSize / 4;
        }

        public override bool SupportsUnwritten => false;

        /// <summary>12 direct + p + p^2 + p^3 blocks (p = pointers per block), below 2^32.</summary>
        public override ulong LogicalLimit
        {
            get
            {
                ulong p = _perBlock;
                return Math.Min(DirectBlocks + p + (p * p) + (p * p * p), 1UL << 32);
            }
        }

        public override BlockRun Map(uint lblk, uint maxBlocks)
        {
            maxBlocks = Math.Max(maxBlocks, 1);
            if (lblk >= LogicalLimit)
            {
                return new BlockRun(BlockRunKind.Hole, 0, maxBlocks);
            }

            int depth = PathOf(lblk, out var idx);
            if (depth == 0)
            {
                return RunIn(Record.IBlock[..(DirectBlocks * 4)], idx[0], DirectBlocks, maxBlocks);
            }

            ulong ptr = U32(Record.IBlock, idx[0] * 4);
            for (int level = 1; level <= depth; level++)
            {
                if (ptr == 0)
                {
                    // The rest of this subtree is a hole.
                    ulong covered = 1;
                    for (int k = level; k <= depth; k++)
                    {
                        covered *= _perBlock;
                    }

                    ulong offsetInSubtree = 0;
                    for (int k = level; k <= depth; k++)
                    {
                        offsetInSubtree = (offsetInSubtree * _perBlock) + (ulong)idx[k];
                    }

                    return new BlockRun(BlockRunKind.Hole, 0, (uint)Math.Min(covered - offsetInSubtree, maxBlocks));
                }

                byte[] block = ReadIndirect(ptr);
                if (level == depth)
                {
                    return RunIn(block, idx[level], (int)_perBlock, maxBlocks);
                }

                ptr = U32(block, idx[level] * 4);
            }

            throw new InvalidOperationException("unreachable: the walk ends at the data level");
        }

        public override Ext4Errno MapNew(Ext4Transaction tx, uint lblk, uint count, ulong physical, bool unwritten, out uint mapped)
        {
            if (unwritten)
            {
                throw new InvalidOperationException("block-mapped files have no unwritten blocks");
            }

            mapped = 0;
            if (physical + count > 1UL << 32 || (ulong)lblk + count > LogicalLimit)
            {
                return Ext4Errno.ENOSPC;
            }

            for (; mapped < count; mapped++)
            {
                var err = SetPointer(tx, lblk + mapped, (uint)(physical + mapped));
                if (err != Ext4Errno.None)
                {
                    return err;
                }

                BlocksDelta++;
            }

            return Ext4Errno.None;
        }

        public override Ext4Errno Remove(Ext4Transaction tx, uint start, ulong count)
        {
            ulong end = Math.Min((ulong)start + count, LogicalLimit);
            Span<byte> iblock = Record.IBlock;
            for (ulong l = start; l < Math.Min(end, DirectBlocks); l++)
            {
                uint p = U32(iblock, (int)l * 4);
                if (p != 0)
                {
                    ExtentTree.CheckMapped(V, Record.Number, p, 1, $"inode {Record.Number} direct block");
                    QueueFree(tx, p);
                    BinaryPrimitives.WriteUInt32LittleEndian(iblock[((int)l * 4)..], 0);
                }
            }

            ulong p1 = _perBlock;
            ulong baseAt = DirectBlocks;
            ulong span = p1;
            for (int depth = 1; depth <= 3; depth++)
            {
                int slot = SingleIndirect + depth - 1;
                if (start < baseAt + span && end > baseAt)
                {
                    uint root = U32(iblock, slot * 4);
                    if (root != 0 && RemoveIn(tx, root, depth, baseAt, start, end))
                    {
                        FreeIndirect(tx, root);
                        BinaryPrimitives.WriteUInt32LittleEndian(iblock[(slot * 4)..], 0);
                    }
                }

                baseAt += span;
                span *= p1;
            }

            FlushFrees(tx);
            return Ext4Errno.None;
        }

        public override void SetUnwritten(uint start, ulong count, bool unwritten, List<ExtentTree.Extent> changed) =>
            throw new InvalidOperationException("block-mapped files have no unwritten blocks");

        public override Ext4Errno Commit(Ext4Transaction tx)
        {
            FlushFrees(tx);
            return Ext4Errno.None;
        }

        /// <summary>
        /// Frees the part of the subtree under indirect block <paramref name="block"/> (depth
        /// levels above the data; its first entry maps logical <paramref name="baseAt"/>) that
        /// lies in [start, end). Returns true when the block is left all-zero and the range
        /// touched it, so the caller frees it and clears the pointer to it.
        /// </summary>
        private bool RemoveIn(Ext4Transaction tx, ulong block, int depth, ulong baseAt, ulong start, ulong end)
        {
            ulong perEntry = 1;
            for (int k = 1; k < depth; k++)
            {
                perEntry *= _perBlock;
            }

            byte[] content = (byte[])ReadIndirect(block).Clone();
            bool changed = false;
            ulong firstEntry = start > baseAt ? (start - baseAt) / perEntry : 0;
            for (ulong i = firstEntry; i < _perBlock; i++)
            {
                ulong childBase = baseAt + (i * perEntry);
                if (childBase >= end)
                {
                    break;
                }

                uint q = U32(content, (int)i * 4);
                if (q == 0)
                {
                    continue;
                }

                if (depth == 1)
                {
                    ExtentTree.CheckMapped(V, Record.Number, q, 1, $"inode {Record.Number} data block");
                    QueueFree(tx, q);
                }
                else if (!RemoveIn(tx, q, depth - 1, childBase, start, end))
                {
                    continue;
                }
                else
                {
                    FreeIndirect(tx, q);
                }

                BinaryPrimitives.WriteUInt32LittleEndian(content.AsSpan((int)i * 4), 0);
                changed = true;
            }

            if (!changed)
            {
                return false;
            }

            if (!content.AsSpan().ContainsAnyExcept((byte)0))
            {
                return true;
            }

            tx.Modify(block, $"inode {Record.Number} indirect block", span => content.CopyTo(span));
            return false;
        }

        /// <summary>Sets the pointer of logical block <paramref name="lblk"/> to <paramref name="physical"/>, creating missing indirect blocks.</summary>
        private Ext4Errno SetPointer(Ext4Transaction tx, uint lblk, uint physical)
        {
            int depth = PathOf(lblk, out var idx);
            Span<byte> iblock = Record.IBlock;
            if (depth == 0)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(iblock[(idx[0] * 4)..], physical);
                return Ext4Errno.None;
            }

            uint ptr = U32(iblock, idx[0] * 4);
            if (ptr == 0)
            {
                var err = NewIndirect(tx, physical, out ptr);
                if (err != Ext4Errno.None)
                {
                    return err;
                }

                BinaryPrimitives.WriteUInt32LittleEndian(iblock[(idx[0] * 4)..], ptr);
            }

            for (int level = 1; level <= depth; level++)
            {
                int at = idx[level] * 4;
                if (level == depth)
                {
                    tx.Modify(ptr, $"inode {Record.Number} indirect block", span => BinaryPrimitives.WriteUInt32LittleEndian(span[at..], physical));
                    return Ext4Errno.None;
                }

                uint child = U32(ReadIndirect(ptr), at);
                if (child == 0)
                {
                    var err = NewIndirect(tx, physical, out child);
                    if (err != Ext4Errno.None)
                    {
                        return err;
                    }

                    uint c = child;
                    tx.Modify(ptr, $"inode {Record.Number} indirect block", span => BinaryPrimitives.WriteUInt32LittleEndian(span[at..], c));
                }

                ptr = child;
            }

            throw new InvalidOperationException("unreachable: the walk ends at the data level");
        }

        private Ext4Errno NewIndirect(Ext4Transaction tx, ulong near, out uint block)
        {
            block = 0;
            var err = V.BlockAllocator.Allocate(tx, near, 1, AllocationRights.Reserved, out ulong s, out _);
            if (err != Ext4Errno.None)
            {
                return err;
            }

            if (s >= 1UL << 32)
            {
                V.BlockAllocator.Free(tx, s, 1);
                return Ext4Errno.ENOSPC;
            }

            tx.Create(s, $"inode {Record.Number} indirect block (new)", _ => { });
            BlocksDelta++;
            block = (uint)s;
            return Ext4Errno.None;
        }

        /// <summary>An indirect block counts in i_blocks like data; FreeData forgets its cached versions.</summary>
        private void FreeIndirect(Ext4Transaction tx, ulong block) => FreeData(tx, block, 1);

        private void QueueFree(Ext4Transaction tx, ulong block)
        {
            if (_freeCount > 0 && _freeStart + _freeCount == block && _freeCount < uint.MaxValue)
            {
                _freeCount++;
                return;
            }

            FlushFrees(tx);
            _freeStart = block;
            _freeCount = 1;
        }

        private void FlushFrees(Ext4Transaction tx)
        {
            if (_freeCount > 0)
            {
                FreeData(tx, _freeStart, _freeCount);
                _freeCount = 0;
            }
        }

        private byte[] ReadIndirect(ulong block)
        {
            ExtentTree.CheckMapped(V, Record.Number, block, 1, $"inode {Record.Number} indirect block");
            return V.Cache.Get(block);
        }

        /// <summary>ext4_block_to_path: the depth (0 direct .. 3 triple) and the entry index at each level (idx[0] is the i_block slot).</summary>
        private int PathOf(ulong lblk, out int[] idx)
        {
            idx = new int[4];
            ulong p = _perBlock;
            if (lblk < DirectBlocks)
            {
                idx[0] = (int)lblk;
                return 0;
            }

            lblk -= DirectBlocks;
            if (lblk < p)
            {
                idx[0] = SingleIndirect;
                idx[1] = (int)lblk;
                return 1;
            }

            lblk -= p;
            if (lblk < p * p)
            {
                idx[0] = DoubleIndirect;
                idx[1] = (int)(lblk / p);
                idx[2] = (int)(lblk % p);
                return 2;
            }

            lblk -= p * p;
            idx[0] = TripleIndirect;
            idx[1] = (int)(lblk / (p * p));
            idx[2] = (int)(lblk / p % p);
            idx[3] = (int)(lblk % p);
            return 3;
        }

        /// <summary>From entry <paramref name="index"/> of a pointer array: the run of contiguous pointers, or of zeros.</summary>
        private BlockRun RunIn(ReadOnlySpan<byte> array, int index, int count, uint maxBlocks)
        {
            uint first = U32(array, index * 4);
            uint n = 1;
            while (n < maxBlocks && index + n < count)
            {
                uint next = U32(array, (index + (int)n) * 4);
                if (first == 0 ? next != 0 : next != first + n)
                {
                    break;
                }

                n++;
            }

            if (first == 0)
            {
                return new BlockRun(BlockRunKind.Hole, 0, n);
            }

            ExtentTree.CheckMapped(V, Record.Number, first, n, $"inode {Record.Number} block map");
            return new BlockRun(BlockRunKind.Mapped, first, n);
        }
    }
}
