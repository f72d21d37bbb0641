using System.Buffers.Binary;
using Safemount.Ext4.Allocation;
using Safemount.Ext4.Format;
using X = Safemount.Ext4.Format.XattrLayout;

namespace Safemount.Ext4;

internal sealed partial class FileData
{
    /// <summary>
    /// ext4_convert_inline_data for a regular file: the inline bytes (i_block, then the
    /// "system.data" value) move to a newly allocated block, the in-inode "system.data" entry
    /// is removed (ext4_destroy_inline_data_nolock), EXT4_INLINE_DATA_FL is cleared and i_block
    /// becomes an empty extent root (extents feature) or an empty block map. Done before any
    /// write, size change or fallocate of an inline file, so the file is then an ordinary one
    /// (the kernel keeps small writes inline; the on-disk result here is an equally valid
    /// ext4 file with one block). On ENOSPC nothing has changed on disk and <paramref name="r"/>
    /// must be discarded.
    /// </summary>
    public Ext4Errno ConvertInline(Ext4Transaction tx, Ext4Inode inode, InodeRecord r, AllocationRights rights)
    {
        var data = new byte[inode.Size];
        if (InlineData.Read(_v, inode, 0, data) != data.Length)
        {
            throw new Ext4CorruptionException($"inode {inode.Number}: inline data shorter than i_size {inode.Size}");
        }

        RemoveSystemData(r);
        r.IBlock.Clear();
        r.Flags &= ~InodeLayout.EXT4_INLINE_DATA_FL;
        if (_v.Sb.HasIncompat(Ext4Features.INCOMPAT_EXTENTS))
        {
            r.Flags |= InodeLayout.EXT4_EXTENTS_FL;
            ExtentTree.WriteHeader(r.IBlock, 0, ExtentTree.RootCapacity, 0);
        }

        if (data.Length == 0)
        {
            return Ext4Errno.None;
        }

        long size = r.Size;
        r.Size = 0; // written back by the write below; a block is all there is now
        var err = Write(tx, r, 0, data, rights, out int written);
        if (err == Ext4Errno.None && written != data.Length)
        {
            throw new InvalidOperationException($"inode {inode.Number}: a one-block write was cut short ({written} of {data.Length})");
        }

        r.Size = Math.Max(r.Size, size);
        return err;
    }

    /// <summary>
    /// Removes the in-inode xattr entry system.data from <paramref name="r"/>'s raw bytes (the
    /// read path has validated the region): later entries move down over it, its value is
    /// closed up by moving the values stored below it (values grow down from the region's end)
    /// and fixing their offsets, freed bytes are zeroed; with no entry left the ibody magic is
    /// cleared, as ext4_xattr_ibody_set does.
    /// </summary>
    private void RemoveSystemData(InodeRecord r)
    {
        Span<byte> raw = r.Raw;
        int start = InodeLayout.GoodOldInodeSize + r.ExtraIsize;
        if (_v.InodeSize <= InodeLayout.GoodOldInodeSize || start + X.IbodyHeaderSize > raw.Length
            || BinaryPrimitives.ReadUInt32LittleEndian(raw[start..]) != X.EXT4_XATTR_MAGIC)
        {
            return;
        }

        Span<byte> region = raw[(start + X.IbodyHeaderSize).._v.InodeSize];
        // Walk entries: find system.data and the end marker (4 zero bytes).
        int at = 0, found = -1, foundLen = 0, end = -1;
        while (at + 4 <= region.Length)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(region[at..]) == 0)
            {
                end = at;
                break;
            }

            if (at + X.EntryHeaderSize > region.Length)
            {
                break;
            }

            int nameLen = region[at + X.e_name_len];
            int len = X.EntryLen(nameLen);
            if (at + len > region.Length)
            {
                break;
            }

            if (region[at + X.e_name_index] == X.EXT4_XATTR_INDEX_SYSTEM
                && region.Slice(at + X.e_name, nameLen).SequenceEqual(InlineData.XattrName))
            {
                found = at;
                foundLen = len;
            }

            at += len;
        }

        if (found < 0 || end < 0)
        {
            if (found >= 0)
            {
                throw new Ext4CorruptionException($"inode {r.Number}: in-inode xattr entries have no end marker");
            }

            return;
        }

        int valueOffs = BinaryPrimitives.ReadUInt16LittleEndian(region[(found + X.e_value_offs)..]);
        int valueSize = (int)BinaryPrimitives.ReadUInt32LittleEndian(region[(found + X.e_value_size)..]);
        int padded = (valueSize + 3) & ~3;

        // Entries after the removed one move down; the marker moves with them.
        region[(found + foundLen)..(end + 4)].CopyTo(region[found..]);
        region.Slice(end + 4 - foundLen, foundLen).Clear();
        end -= foundLen;

        if (padded > 0)
        {
            // Values below the removed one (lower offsets) move up by its padded size.
            int firstValue = valueOffs;
            for (int e = 0; e < end; e += X.EntryLen(region[e + X.e_name_len]))
            {
                int offs = BinaryPrimitives.ReadUInt16LittleEndian(region[(e + X.e_value_offs)..]);
                uint inum = BinaryPrimitives.ReadUInt32LittleEndian(region[(e + X.e_value_inum)..]);
                uint size = BinaryPrimitives.ReadUInt32LittleEndian(region[(e + X.e_value_size)..]);
                if (inum == 0 && size > 0 && offs < valueOffs)
                {
                    firstValue = Math.Min(firstValue, offs);
                    BinaryPrimitives.WriteUInt16LittleEndian(region[(e + X.e_value_offs)..], (ushort)(offs + padded));
                }
            }

            if (valueOffs + padded > region.Length)
            {
                throw new Ext4CorruptionException($"inode {r.Number}: system.data value runs past the inode");
            }

            region[firstValue..valueOffs].CopyTo(region[(firstValue + padded)..]);
            region.Slice(firstValue, padded).Clear();
        }

        if (end == 0)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(raw[start..], 0);
        }
    }
}
