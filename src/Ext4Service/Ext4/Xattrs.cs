using System.Buffers.Binary;
using System.Text;
using Safemount.Ext4.Format;
using X = Safemount.Ext4.Format.XattrLayout;

namespace Safemount.Ext4;

/// <summary>
/// Extended attributes (kernel: fs/ext4/xattr.c). Two places, searched in this order: the
/// in-inode area after i_extra_isize (ext4_xattr_ibody_header magic, value offsets relative
/// to the first entry) and the external block i_file_acl (ext4_xattr_header with h_blocks 1,
/// value offsets relative to the block, crc32c under metadata_csum). Entries and values are
/// bounds-checked against their region. A non-zero e_value_inum (ea_inode) puts the value in an
/// EA inode instead (<see cref="XattrInodeValues"/>); it is corruption without the feature or
/// outside [s_first_ino, s_inodes_count], as in the kernel's check_xattrs. Names are decoded as UTF-8.
/// </summary>
internal sealed partial class Xattrs
{
    private readonly Ext4Volume _v;
    private readonly XattrInodeValues _eaInodes;

    public Xattrs(Ext4Volume volume)
    {
        _v = volume;
        _eaInodes = new XattrInodeValues(volume);
    }

    /// <summary>One parsed entry; <see cref="ValueInum"/> != 0 means the value lives in that EA inode
    /// and <see cref="ValueStart"/> is meaningless.</summary>
    private readonly record struct Entry(byte Index, byte[] Name, int ValueStart, int ValueSize, uint ValueInum, uint Hash);

    public IReadOnlyList<string> ListNames(Ext4Inode inode)
    {
        var names = new List<string>();
        foreach (var (_, entries) in Regions(inode))
        {
            foreach (var e in entries)
            {
                string? full = FullName(e);
                if (full != null)
                {
                    names.Add(full);
                }
            }
        }

        return names;
    }

    public byte[]? Get(Ext4Inode inode, string fullName)
    {
        ArgumentNullException.ThrowIfNull(fullName);
        foreach (var (region, entries) in Regions(inode))
        {
            foreach (var e in entries)
            {
                if (FullName(e) != fullName)
                {
                    continue;
                }

                ReadOnlySpan<byte> value = e.ValueInum != 0
                    ? _eaInodes.Read(inode, e.ValueInum, e.Hash, e.Name, e.ValueSize)
                    : region.AsSpan(e.ValueStart, e.ValueSize);
                return e.Index is X.EXT4_XATTR_INDEX_POSIX_ACL_ACCESS or X.EXT4_XATTR_INDEX_POSIX_ACL_DEFAULT
                    ? PosixAcl.ToXattr(inode.Number, value)
                    : value.ToArray();
            }
        }

        return null;
    }

    /// <summary>
    /// The raw value of the in-inode entry (<paramref name="index"/>, <paramref name="name"/>),
    /// or null; used for inline data's "system.data".
    /// </summary>
    public byte[]? GetInodeBody(Ext4Inode inode, byte index, ReadOnlySpan<byte> name)
    {
        if (InodeBody(inode) is not var (region, entries))
        {
            return null;
        }

        foreach (var e in entries)
        {
            if (e.Index == index && name.SequenceEqual(e.Name) && e.ValueInum == 0)
            {
                return region.AsSpan(e.ValueStart, e.ValueSize).ToArray();
            }
        }

        return null;
    }

    private static string? FullName(Entry e)
    {
        string? prefix = X.Prefix(e.Index);
        if (prefix == null || (e.Index == X.EXT4_XATTR_INDEX_SYSTEM && e.Name.AsSpan().SequenceEqual(InlineData.XattrName)))
        {
            // Unknown indices and inline data's "system.data" are not shown, as in the kernel.
            return null;
        }

        // The ACL and richacl indices carry the whole name; any stored suffix is ignored as the kernel does.
        return e.Index is X.EXT4_XATTR_INDEX_POSIX_ACL_ACCESS or X.EXT4_XATTR_INDEX_POSIX_ACL_DEFAULT or X.EXT4_XATTR_INDEX_RICHACL
            ? prefix
            : prefix + Encoding.UTF8.GetString(e.Name);
    }

    /// <summary>The in-inode region (if any) then the block (if any), each with its parsed entries.</summary>
    private IEnumerable<(byte[] Region, List<Entry> Entries)> Regions(Ext4Inode inode)
    {
        if (InodeBody(inode) is { } body)
        {
            yield return body;
        }

        if (inode.FileAcl != 0)
        {
            byte[] block = ReadXattrBlock(inode);
            yield return (block, ParseEntries(inode, block, X.BlockHeaderSize, $"inode {inode.Number} xattr block {inode.FileAcl}"));
        }
    }

    /// <summary>The in-inode xattr region after i_extra_isize when its magic is present.</summary>
    private (byte[] Region, List<Entry> Entries)? InodeBody(Ext4Inode inode)
    {
        int start = InodeLayout.GoodOldInodeSize + inode.ExtraIsize;
        if (_v.InodeSize <= InodeLayout.GoodOldInodeSize || start + X.IbodyHeaderSize > inode.Raw.Length
            || BinaryPrimitives.ReadUInt32LittleEndian(inode.Raw.AsSpan(start)) != X.EXT4_XATTR_MAGIC)
        {
            return null;
        }

        // Offsets inside this region are relative to the first entry, so hand the parser a copy starting there.
        byte[] region = inode.Raw.AsSpan(start + X.IbodyHeaderSize).ToArray();
        return (region, ParseEntries(inode, region, 0, $"inode {inode.Number} in-inode xattrs"));
    }

    private byte[] ReadXattrBlock(Ext4Inode inode)
    {
        ulong nr = inode.FileAcl;
        byte[] block = _v.ReadInodeMetadataBlock(inode, nr, $"inode {inode.Number} xattr block");
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(block.AsSpan(X.h_magic));
        uint blocks = BinaryPrimitives.ReadUInt32LittleEndian(block.AsSpan(X.h_blocks));
        if (magic != X.EXT4_XATTR_MAGIC || blocks != 1)
        {
            throw new Ext4CorruptionException(
                $"inode {inode.Number}: bad xattr block {nr} (magic 0x{magic:x8}, h_blocks {blocks})");
        }

        if (_v.HasMetadataCsum)
        {
            // ext4_xattr_block_csum: crc32c(s_csum_seed, le64 block number, block with h_checksum as zero)
            uint c = Crc32c.AppendLe64(_v.CsumSeed, nr);
            c = Crc32c.Append(c, block.AsSpan(0, X.h_checksum));
            c = Crc32c.AppendZeros(c, 4);
            c = Crc32c.Append(c, block.AsSpan(X.h_checksum + 4));
            uint stored = BinaryPrimitives.ReadUInt32LittleEndian(block.AsSpan(X.h_checksum));
            if (c != stored)
            {
                throw new Ext4ChecksumException(
                    $"inode {inode.Number}: xattr block {nr} checksum mismatch (stored 0x{stored:x8}, computed 0x{c:x8})");
            }
        }

        return block;
    }

    /// <summary>
    /// Parses the entry list from <paramref name="first"/> up to the 4-byte zero terminator.
    /// Names may be empty (the POSIX ACL indices carry the whole name).
    /// Every entry must fit before the region end, and every value must lie after the
    /// terminator and inside the region.
    /// </summary>
    private List<Entry> ParseEntries(Ext4Inode inode, byte[] region, int first, string where)
    {
        var entries = new List<Entry>();
        int o = first;
        while (true)
        {
            if (region.Length - o < 4)
            {
                throw new Ext4CorruptionException($"{where}: entry list runs past the end");
            }

            if (BinaryPrimitives.ReadUInt32LittleEndian(region.AsSpan(o)) == 0)
            {
                break;
            }

            if (region.Length - o < X.EntryHeaderSize)
            {
                throw new Ext4CorruptionException($"{where}: entry at {o} runs past the end");
            }

            int nameLen = region[o + X.e_name_len];
            int len = X.EntryLen(nameLen);
            if (region.Length - o < len)
            {
                throw new Ext4CorruptionException($"{where}: bad entry at {o} (name_len {nameLen})");
            }

            if (region.AsSpan(o + X.e_name, nameLen).IndexOf((byte)0) >= 0)
            {
                // check_xattrs: "bad e_name length" (a NUL would split the name in a listxattr reply).
                throw new Ext4CorruptionException($"{where}: entry at {o} has a NUL in its name");
            }

            uint valueInum = BinaryPrimitives.ReadUInt32LittleEndian(region.AsSpan(o + X.e_value_inum));
            uint valueSize = BinaryPrimitives.ReadUInt32LittleEndian(region.AsSpan(o + X.e_value_size));
            if (valueInum != 0)
            {
                var sb = _v.Sb;
                if (!sb.HasIncompat(Ext4Features.INCOMPAT_EA_INODE))
                {
                    throw new Ext4CorruptionException($"{where}: entry at {o} names EA inode {valueInum} without the ea_inode feature");
                }

                uint firstIno = sb.s_rev_level == 0 ? 11u : sb.s_first_ino;   // EXT4_FIRST_INO
                if (valueInum < firstIno || valueInum > sb.s_inodes_count)
                {
                    throw new Ext4CorruptionException($"{where}: entry at {o} has bad e_value_inum {valueInum}");
                }
            }

            if (valueSize > XattrInodeValues.EXT4_XATTR_SIZE_MAX)
            {
                throw new Ext4CorruptionException($"{where}: entry at {o} has value size {valueSize} (max {XattrInodeValues.EXT4_XATTR_SIZE_MAX})");
            }

            entries.Add(new Entry(
                region[o + X.e_name_index],
                region.AsSpan(o + X.e_name, nameLen).ToArray(),
                // An empty value has no place (the kernel never looks at its e_value_offs): 0, so
                // that no slice starts past the region.
                valueSize == 0 ? 0 : BinaryPrimitives.ReadUInt16LittleEndian(region.AsSpan(o + X.e_value_offs)),
                (int)valueSize,
                valueInum,
                BinaryPrimitives.ReadUInt32LittleEndian(region.AsSpan(o + X.e_hash))));
            o += len;
        }

        int entriesEnd = o + 4;
        foreach (var e in entries)
        {
            if (e.ValueSize == 0 || e.ValueInum != 0)
            {
                continue;
            }

            if (e.ValueStart < entriesEnd || e.ValueSize > region.Length - e.ValueStart)
            {
                throw new Ext4CorruptionException(
                    $"{where}: value at {e.ValueStart} (+{e.ValueSize}) lies outside the region");
            }
        }

        _ = inode;
        return entries;
    }
}
