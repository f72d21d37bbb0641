using System.Buffers.Binary;
using Safemount.Ext4.Format;
using L = Safemount.Ext4.Format.InodeLayout;

namespace Safemount.Ext4;

/// <summary>
/// A mutable copy of one on-disk inode (struct ext4_inode, s_inode_size bytes), to be written
/// with <see cref="Ext4Volume.WriteInode"/>. Setters encode straight into the record's bytes with
/// the kernel's rules (ext4_inode_blocks_set, ext4_encode_extra_time, ext4_isize_set,
/// old/new_encode_dev); bytes it does not know (the in-inode xattr area, osd fields) are kept.
/// i_checksum is computed when written. Not thread-safe: owned by the thread holding the inode lock.
/// </summary>
internal sealed class InodeRecord
{
    private readonly byte[] _raw;
    private readonly bool _hugeFileFeature;
    private readonly bool _is64Bit;
    private readonly int _blockSizeBits;

    private InodeRecord(uint number, byte[] raw, Superblock sb, int blockSizeBits)
    {
        Number = number;
        _raw = raw;
        _hugeFileFeature = sb.HasRoCompat(Ext4Features.RO_COMPAT_HUGE_FILE);
        _is64Bit = sb.HasIncompat(Ext4Features.INCOMPAT_64BIT);
        _blockSizeBits = blockSizeBits;
    }

    /// <summary>Inode number (1-based).</summary>
    public uint Number { get; }

    /// <summary>A copy of <paramref name="inode"/>'s on-disk record.</summary>
    public static InodeRecord From(Ext4Volume volume, Ext4Inode inode) =>
        new(inode.Number, (byte[])inode.Raw.Clone(), volume.Sb, volume.BlockSizeBits);

    /// <summary>
    /// A fresh record for inode <paramref name="number"/>: all zero apart from i_mode,
    /// i_generation and i_extra_isize = s_want_extra_isize (large inodes, as __ext4_new_inode).
    /// The caller sets owner, times, links and flags.
    /// </summary>
    public static InodeRecord New(Ext4Volume volume, uint number, ushort mode, uint generation)
    {
        var raw = new byte[volume.InodeSize];
        var r = new InodeRecord(number, raw, volume.Sb, volume.BlockSizeBits) { Mode = mode, Generation = generation };
        if (volume.InodeSize > L.GoodOldInodeSize)
        {
            ushort want = BinaryPrimitives.ReadUInt16LittleEndian(volume.Sb.Raw.AsSpan(SuperblockLayout.s_want_extra_isize));
            int max = volume.InodeSize - L.GoodOldInodeSize;
            if (want == 0 || want > max || (want & 3) != 0)
            {
                want = (ushort)Math.Min(L.LargeInodeEnd - L.GoodOldInodeSize, max);
            }

            BinaryPrimitives.WriteUInt16LittleEndian(raw.AsSpan(L.i_extra_isize), want);
        }

        return r;
    }

    /// <summary>i_extra_isize (0 for 128-byte inodes).</summary>
    public ushort ExtraIsize => _raw.Length > L.GoodOldInodeSize ? U16(L.i_extra_isize) : (ushort)0;

    public ushort Mode
    {
        get => U16(L.i_mode);
        set => W16(L.i_mode, value);
    }

    /// <summary>i_uid | l_i_uid_high &lt;&lt; 16.</summary>
    public uint Uid
    {
        get => U16(L.i_uid) | ((uint)U16(L.l_i_uid_high) << 16);
        set
        {
            W16(L.i_uid, (ushort)value);
            W16(L.l_i_uid_high, (ushort)(value >> 16));
        }
    }

    /// <summary>i_gid | l_i_gid_high &lt;&lt; 16.</summary>
    public uint Gid
    {
        get => U16(L.i_gid) | ((uint)U16(L.l_i_gid_high) << 16);
        set
        {
            W16(L.i_gid, (ushort)value);
            W16(L.l_i_gid_high, (ushort)(value >> 16));
        }
    }

    /// <summary>i_size_lo | i_size_high &lt;&lt; 32 (ext4_isize_set).</summary>
    public long Size
    {
        get => (long)(U32(L.i_size_lo) | ((ulong)U32(L.i_size_high) << 32));
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            W32(L.i_size_lo, (uint)value);
            W32(L.i_size_high, (uint)((ulong)value >> 32));
        }
    }

    public ushort LinksCount
    {
        get => U16(L.i_links_count);
        set => W16(L.i_links_count, value);
    }

    /// <summary>i_dtime (deletion time; for orphans, the next orphan's inode number).</summary>
    public uint Dtime
    {
        get => U32(L.i_dtime);
        set => W32(L.i_dtime, value);
    }

    public uint Flags
    {
        get => U32(L.i_flags);
        set => W32(L.i_flags, value);
    }

    public uint Generation
    {
        get => U32(L.i_generation);
        set => W32(L.i_generation, value);
    }

    /// <summary>i_file_acl_lo | l_i_file_acl_high &lt;&lt; 32 (the high half only with 64bit).</summary>
    public ulong FileAcl
    {
        get => U32(L.i_file_acl_lo) | (_is64Bit ? (ulong)U16(L.l_i_file_acl_high) << 32 : 0);
        set
        {
            if (!_is64Bit && value > uint.MaxValue)
            {
                throw new ArgumentOutOfRangeException(nameof(value), "xattr block beyond 2^32 without the 64bit feature");
            }

            W32(L.i_file_acl_lo, (uint)value);
            if (_is64Bit)
            {
                W16(L.l_i_file_acl_high, (ushort)(value >> 32));
            }
        }
    }

    /// <summary>
    /// i_blocks in 512-byte units. Setting it follows ext4_inode_blocks_set: below 2^32 in
    /// i_blocks_lo; below 2^48 with huge_file in lo + l_i_blocks_high; beyond that in file-system
    /// blocks with EXT4_HUGE_FILE_FL. Throws when the value cannot be represented (EFBIG).
    /// </summary>
    public ulong Blocks512
    {
        get
        {
            ulong b = U32(L.i_blocks_lo);
            if (_hugeFileFeature)
            {
                b |= (ulong)U16(L.l_i_blocks_high) << 32;
                if ((Flags & L.EXT4_HUGE_FILE_FL) != 0)
                {
                    b <<= _blockSizeBits - 9;
                }
            }

            return b;
        }

        set
        {
            if (value <= uint.MaxValue)
            {
                W32(L.i_blocks_lo, (uint)value);
                W16(L.l_i_blocks_high, 0);
                Flags &= ~L.EXT4_HUGE_FILE_FL;
                return;
            }

            if (!_hugeFileFeature)
            {
                throw new ArgumentOutOfRangeException(nameof(value), "i_blocks beyond 2^32 sectors needs the huge_file feature");
            }

            if (value <= 0xFFFF_FFFF_FFFFUL)
            {
                W32(L.i_blocks_lo, (uint)value);
                W16(L.l_i_blocks_high, (ushort)(value >> 32));
                Flags &= ~L.EXT4_HUGE_FILE_FL;
                return;
            }

            ulong fsBlocks = value >> (_blockSizeBits - 9);
            if (fsBlocks > 0xFFFF_FFFF_FFFFUL)
            {
                throw new ArgumentOutOfRangeException(nameof(value), "i_blocks does not fit in 48 bits of file-system blocks");
            }

            W32(L.i_blocks_lo, (uint)fsBlocks);
            W16(L.l_i_blocks_high, (ushort)(fsBlocks >> 32));
            Flags |= L.EXT4_HUGE_FILE_FL;
        }
    }

    /// <summary>i_version: l_i_version | i_version_hi &lt;&lt; 32 (the high half only when it fits in the inode).</summary>
    public ulong Version
    {
        get => U32(L.l_i_version) | (Fits(L.i_version_hi, 4) ? (ulong)U32(L.i_version_hi) << 32 : 0);
        set
        {
            W32(L.l_i_version, (uint)value);
            if (Fits(L.i_version_hi, 4))
            {
                W32(L.i_version_hi, (uint)(value >> 32));
            }
        }
    }

    /// <summary>i_projid when it fits in the inode, else 0 (setting it there is ignored).</summary>
    public uint ProjectId
    {
        get => Fits(L.i_projid, 4) ? U32(L.i_projid) : 0;
        set
        {
            if (Fits(L.i_projid, 4))
            {
                W32(L.i_projid, value);
            }
        }
    }

    /// <summary>The 60-byte i_block (extent root, block map or fast symlink target).</summary>
    public Span<byte> IBlock => _raw.AsSpan(L.i_block, L.IBlockSize);

    /// <summary>The whole record; callers editing the in-inode xattr area write here.</summary>
    public Span<byte> Raw => _raw;

    public void SetAtime(long seconds, uint nanoseconds) => SetTime(L.i_atime, L.i_atime_extra, seconds, nanoseconds);

    public void SetMtime(long seconds, uint nanoseconds) => SetTime(L.i_mtime, L.i_mtime_extra, seconds, nanoseconds);

    public void SetCtime(long seconds, uint nanoseconds) => SetTime(L.i_ctime, L.i_ctime_extra, seconds, nanoseconds);

    /// <summary>i_crtime; ignored when the field does not fit (small i_extra_isize).</summary>
    public void SetCrtime(long seconds, uint nanoseconds)
    {
        if (Fits(L.i_crtime, 4))
        {
            SetTime(L.i_crtime, L.i_crtime_extra, seconds, nanoseconds);
        }
    }

    /// <summary>
    /// Device number of a character or block device, as ext4_iget's inverse: i_block[0] =
    /// old_encode_dev when major and minor fit in 8 bits, else i_block[1] = new_encode_dev.
    /// </summary>
    public void SetDevice(uint major, uint minor)
    {
        IBlock.Clear();
        if (major < 256 && minor < 256)
        {
            W32(L.i_block, (major << 8) | minor);
        }
        else
        {
            W32(L.i_block + 4, (minor & 0xFF) | ((major & 0xFFF) << 8) | ((minor & ~0xFFu) << 12));
        }
    }

    /// <summary>Encodes the record with a fresh i_checksum (metadata_csum) into a copy of its bytes.</summary>
    internal byte[] Seal(Ext4Volume volume)
    {
        var bytes = (byte[])_raw.Clone();
        volume.Inodes.Seal(bytes, Number);
        return bytes;
    }

    /// <summary>ext4_encode_extra_time: the low 32 bits signed in the base field; (seconds - (s32)seconds) &gt;&gt; 32 in the 2 epoch bits and nanoseconds &lt;&lt; 2 in the extra field.</summary>
    private void SetTime(int field, int extraField, long seconds, uint nanoseconds)
    {
        // The VFS clamps to what the inode can hold (timestamp_truncate to s_time_min/s_time_max):
        // a signed 32-bit second without the extra field, up to EXT4_EXTRA_TIMESTAMP_MAX with it.
        bool extra = Fits(extraField, 4);
        long max = extra ? ExtraTimestampMax : int.MaxValue;
        if (seconds <= int.MinValue || seconds >= max)
        {
            seconds = Math.Clamp(seconds, int.MinValue, max);
            nanoseconds = 0;
        }

        W32(field, (uint)(int)seconds);
        if (extra)
        {
            uint epoch = (uint)((seconds - (int)seconds) >> 32) & 3;
            W32(extraField, epoch | (Math.Min(nanoseconds, 999_999_999u) << 2));
        }
    }

    /// <summary>EXT4_EXTRA_TIMESTAMP_MAX: ((1 &lt;&lt; 34) - 1) + S32_MIN, the last second the epoch bits reach (2446-05-10).</summary>
    private const long ExtraTimestampMax = (1L << 34) - 1 + int.MinValue;

    private bool Fits(int offset, int size) => offset + size <= L.GoodOldInodeSize + ExtraIsize;

    private ushort U16(int o) => BinaryPrimitives.ReadUInt16LittleEndian(_raw.AsSpan(o));

    private uint U32(int o) => BinaryPrimitives.ReadUInt32LittleEndian(_raw.AsSpan(o));

    private void W16(int o, ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(_raw.AsSpan(o), v);

    private void W32(int o, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(_raw.AsSpan(o), v);
}
