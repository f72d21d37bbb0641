using System.Buffers.Binary;
using Safemount.Ext4.Format;

namespace Safemount.Ext4;

/// <summary>Inline directories (see <see cref="InlineData"/>): "." and ".." are implied.</summary>
internal sealed partial class Directories
{
    /// <summary>Stands for "the inline regions" where a logical block number is expected in messages.</summary>
    private const uint InlineRegion = uint.MaxValue;

    private const byte EXT4_FT_DIR = 2;

    /// <summary>(region, start, end) pairs: i_block after the parent number, then the system.data value.</summary>
    private (uint Parent, List<(byte[] Region, int Start, int End)> Regions) InlineRegions(Ext4Inode dir)
    {
        byte[] all = InlineData.Contents(_v, dir);
        if (dir.Size > all.Length)
        {
            throw new Ext4CorruptionException(
                $"directory inode {dir.Number}: i_size {dir.Size} exceeds its inline data ({all.Length} bytes)");
        }

        uint parent = BinaryPrimitives.ReadUInt32LittleEndian(all);
        if (parent == 0 || parent > _v.Sb.s_inodes_count)
        {
            throw new Ext4CorruptionException($"directory inode {dir.Number}: inline parent inode {parent} out of range");
        }

        var regions = new List<(byte[], int, int)> { (all, InlineData.InlineDotDotSize, InlineData.MinInlineDataSize) };
        if (all.Length > InlineData.MinInlineDataSize)
        {
            regions.Add((all[InlineData.MinInlineDataSize..], 0, all.Length - InlineData.MinInlineDataSize));
        }

        return (parent, regions);
    }

    private List<Ext4DirEntry> ReadAllInline(Ext4Inode dir)
    {
        var (parent, regions) = InlineRegions(dir);
        var result = new List<Ext4DirEntry>
        {
            new(dir.Number, HasFiletype ? EXT4_FT_DIR : (byte)0, "."u8.ToArray()),
            new(parent, HasFiletype ? EXT4_FT_DIR : (byte)0, ".."u8.ToArray()),
        };
        foreach (var (region, start, end) in regions)
        {
            ParseEntries(dir, InlineRegion, region, start, end, result);
        }

        return result;
    }

    private uint LookupInline(Ext4Inode dir, ReadOnlySpan<byte> name)
    {
        var (parent, regions) = InlineRegions(dir);
        if (name.SequenceEqual("."u8))
        {
            return dir.Number;
        }

        if (name.SequenceEqual(".."u8))
        {
            return parent;
        }

        foreach (var (region, start, end) in regions)
        {
            uint ino = FindInBlock(dir, InlineRegion, region, start, end, name);
            if (ino != 0)
            {
                return ino;
            }
        }

        return 0;
    }
}
