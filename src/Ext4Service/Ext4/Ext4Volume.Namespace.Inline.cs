using System.Buffers.Binary;
using Safemount.Ext4.Allocation;
using Safemount.Ext4.Format;
using L = Safemount.Ext4.Format.InodeLayout;
using X = Safemount.Ext4.Format.XattrLayout;

namespace Safemount.Ext4;

/// <summary>
/// Inline directories (inline_data) become ordinary one-block directories before they are
/// edited (kernel: inline.c ext4_convert_inline_data_nolock / ext4_finish_convert_inline_dir,
/// which the kernel runs when an inline directory overflows; here it runs on the first edit,
/// so every later step is the block directory code). The block gets "." and "..", then the
/// live entries of i_block and of the system.data value in their order; EXT4_INLINE_DATA_FL
/// goes, i_block becomes an empty extent root (or zeros without extents), system.data is
/// removed from the inode body, i_size becomes one block.
/// </summary>
public sealed partial class Ext4Volume
{
    private Ext4Errno ConvertInlineDirectory(Ext4Transaction tx, Ext4Inode dir, AllocationRights rights, out Ext4Inode converted)
    {
        converted = dir;
        var entries = ReadDirectory(dir); // ".", "..", then both regions' entries in order (checked)
        if (entries.Count < 2 || !entries[0].Name.AsSpan().SequenceEqual("."u8) || !entries[1].Name.AsSpan().SequenceEqual(".."u8))
        {
            throw new Ext4CorruptionException($"inline directory inode {dir.Number} lacks \".\" and \"..\"");
        }

        var r = InodeRecord.From(this, dir);
        var err = XattrWriter.Set(tx, dir, r, X.EXT4_XATTR_INDEX_SYSTEM, InlineData.XattrName, null, XattrSetFlags.None, rights, out _);
        if (err is not (Ext4Errno.None or Ext4Errno.ENODATA))
        {
            return err;
        }

        r.Flags &= ~L.EXT4_INLINE_DATA_FL;
        r.IBlock.Clear();
        if (Sb.HasIncompat(Ext4Features.INCOMPAT_EXTENTS))
        {
            r.Flags |= L.EXT4_EXTENTS_FL;
            BinaryPrimitives.WriteUInt16LittleEndian(r.IBlock[ExtentLayout.eh_magic..], ExtentLayout.EXT4_EXT_MAGIC);
            BinaryPrimitives.WriteUInt16LittleEndian(r.IBlock[ExtentLayout.eh_max..], (L.IBlockSize / ExtentLayout.EntrySize) - 1);
        }

        err = FileData.MapOrAllocateBlock(tx, r, 0, rights, out ulong block, out _);
        if (err != Ext4Errno.None)
        {
            return err; // nothing written yet: the handle's record copy is dropped
        }

        bool filetype = Sb.HasIncompat(Ext4Features.INCOMPAT_FILETYPE);
        bool csum = HasMetadataCsum;
        uint seed = VolumeDirectoryBlocks.InodeSeed(this, r.Number, r.Generation);
        uint self = r.Number;
        tx.Create(block, $"directory inode {self} block 0", b =>
        {
            DirectoryBlock.InitDotDot(b, self, entries[1].Inode, filetype, csum);
            int end = DirectoryBlock.EntriesEnd(b.Length, csum);
            foreach (var e in entries.Skip(2))
            {
                int slot = DirectoryBlock.FindSlot(b, 0, end, e.Name, out bool exists);
                if (slot < 0 || exists)
                {
                    throw new Ext4CorruptionException($"inline directory inode {self}: entries do not fit one block (or repeat a name)");
                }

                DirectoryBlock.Insert(b, slot, end, e.Name, e.Inode, e.FileType);
            }

            if (csum)
            {
                DirectoryBlock.SetChecksum(b, seed);
            }
        });
        r.Size = BlockSize;
        converted = WriteInode(tx, r);
        return Ext4Errno.None;
    }
}
