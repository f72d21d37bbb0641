using System.Buffers.Binary;
using Safemount.Ext4.Format;
using L = Safemount.Ext4.Format.InodeLayout;
using static Safemount.Ext4.Format.LittleEndian;

namespace Safemount.Ext4;

/// <summary>
/// Locates, verifies and decodes inodes (kernel: ext4_get_inode_loc, __ext4_iget).
/// Inode n lives in group (n-1) / s_inodes_per_group at index (n-1) % s_inodes_per_group of
/// that group's inode table.
/// </summary>
internal sealed class Inodes
{
    /// <summary>
    /// Entries of <see cref="_decoded"/> (a power of two: slot = inode number mod DecodedSlots).
    /// Small on purpose: the gain is for requests that hit the same few inodes back to back (a
    /// writeback burst, random I/O on one file); each slot keeps a replaced inode-table block
    /// alive until it is overwritten, and 256 slots measured up to 2-3 MiB more peak memory on
    /// the metadata workload (bench/RESULTS.md run 9).
    /// </summary>
    internal const int DecodedSlots = 16;

    private readonly Ext4Volume _v;

    /// <summary>
    /// Recently decoded inodes, each with the inode-table block array it was decoded from.
    /// Invariant: <see cref="Decode"/> is a function of the inode number, its bytes and volume
    /// facts fixed for the mount (inode size, features, checksum seed), and a cache array is
    /// never written after it is handed out (BlockCache), so while <see cref="Storage.BlockCache.TryGet"/>
    /// returns the same array for the block, the decoded snapshot (immutable) is still the
    /// inode's current one. Any change to the inode installs a new array. Lock-free: slots hold
    /// immutable entries, replaced by reference.
    /// </summary>
    private readonly DecodedInode?[] _decoded = new DecodedInode?[DecodedSlots];

    public Inodes(Ext4Volume volume) => _v = volume;

    public Ext4Inode Read(uint ino)
    {
        var (block, offset) = Locate(ino);
        if (!_v.Cache.TryGet(block, out byte[]? data))
        {
            data = _v.ReadMetadataBlock(block, InodeTableReadahead(ino, block), $"inode {ino}");
        }

        int slot = (int)(ino & (DecodedSlots - 1));
        var known = Volatile.Read(ref _decoded[slot]);
        if (known is not null && known.Number == ino && ReferenceEquals(known.Block, data))
        {
            return known.Inode;
        }

        var raw = data.AsSpan(offset, _v.InodeSize).ToArray();
        var inode = Decode(ino, raw);
        Volatile.Write(ref _decoded[slot], new DecodedInode(ino, data, inode));
        return inode;
    }

    /// <summary>
    /// How many inode-table blocks a miss of <paramref name="block"/> (holding inode
    /// <paramref name="ino"/>) reads, as __ext4_get_inode_loc (fs/ext4/inode.c) bounds its
    /// readahead: not past the group's table, and with group descriptor checksums (uninit_bg or
    /// metadata_csum) not past the block of the last inode ever used (s_inodes_per_group -
    /// bg_itable_unused; none at all in an EXT4_BG_INODE_UNINIT group). The cache caps the run
    /// at <see cref="Storage.BlockCache.MaxReadahead"/>.
    /// </summary>
    private int InodeTableReadahead(uint ino, ulong block)
    {
        var sb = _v.Sb;
        uint group = (ino - 1) / sb.s_inodes_per_group;
        ulong perBlock = _v.BlockSize / (uint)_v.InodeSize;
        ulong used = sb.s_inodes_per_group;
        if (_v.HasMetadataCsum || sb.HasRoCompat(Ext4Features.RO_COMPAT_GDT_CSUM))
        {
            GroupCounters c = _v.ReadGroupCounters(group);
            used = (c.Flags & GroupDescriptor.EXT4_BG_INODE_UNINIT) != 0 ? 0 : used - Math.Min(c.ItableUnused, used);
        }

        // Blocks [table, end) hold the used inodes; the missed block is read whatever they say.
        ulong end = _v.Groups[group].bg_inode_table + ((used + perBlock - 1) / perBlock);
        return end > block ? (int)Math.Min(end - block, Storage.BlockCache.MaxReadahead) : 1;
    }

    /// <summary>
    /// Writes <paramref name="record"/> into its inode-table block through <paramref name="tx"/>
    /// with a fresh checksum and returns the re-decoded snapshot. The caller holds the inode's lock
    /// exclusive.
    /// </summary>
    public Ext4Inode Write(Ext4Transaction tx, InodeRecord record)
    {
        uint ino = record.Number;
        var (block, offset) = Locate(ino);

        // Validated before anything is written: a record the reader would refuse never reaches the disk.
        byte[] bytes = record.Seal(_v);
        Ext4Inode decoded = Decode(ino, bytes);
        byte[]? relinked = null;
        tx.Modify(block, $"inode {ino}", b =>
        {
            Span<byte> slot = b.Slice(offset, _v.InodeSize);
            bytes.CopyTo(slot);

            // An orphan's i_dtime is the orphan chain's link, owned by Orphans (see there).
            if (_v.Orphans.TryGetNext(ino, out uint next) && BinaryPrimitives.ReadUInt32LittleEndian(slot[L.i_dtime..]) != next)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(slot[L.i_dtime..], next);
                Seal(slot, ino);
                relinked = slot.ToArray();
            }
        });

        // Decoded once; again only when the orphan link changed the bytes written.
        return relinked is null ? decoded : Decode(ino, relinked);
    }

    /// <summary>
    /// Edits inode <paramref name="ino"/>'s bytes in place in its inode-table block (fields the
    /// caller does not own, such as the orphan link) and re-seals its checksum.
    /// </summary>
    public void Patch(Ext4Transaction tx, uint ino, BlockEdit edit)
    {
        var (block, offset) = Locate(ino);
        tx.Modify(block, $"inode {ino}", b =>
        {
            Span<byte> slot = b.Slice(offset, _v.InodeSize);
            edit(slot);
            Seal(slot, ino);
        });
    }

    /// <summary>Stores i_checksum (metadata_csum) of the inode record in <paramref name="raw"/>, seeded with its own i_generation.</summary>
    internal void Seal(Span<byte> raw, uint ino)
    {
        if (!_v.HasMetadataCsum)
        {
            return;
        }

        ushort extraIsize = _v.InodeSize > L.GoodOldInodeSize ? U16(raw, L.i_extra_isize) : (ushort)0;
        uint seed = Crc32c.AppendLe32(_v.CsumSeed, ino);
        seed = Crc32c.AppendLe32(seed, U32(raw, L.i_generation));
        uint c = InodeChecksum.Compute(raw, _v.InodeSize, extraIsize, seed, out bool hasHi);
        BinaryPrimitives.WriteUInt16LittleEndian(raw[L.l_i_checksum_lo..], (ushort)c);
        if (hasHi)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(raw[L.i_checksum_hi..], (ushort)(c >> 16));
        }
    }

    /// <summary>The inode-table block holding inode <paramref name="ino"/> and the byte offset in it.</summary>
    private (ulong Block, int Offset) Locate(uint ino)
    {
        var sb = _v.Sb;
        if (ino == 0 || ino > sb.s_inodes_count)
        {
            throw new Ext4CorruptionException($"inode number {ino} is out of range (1..{sb.s_inodes_count})");
        }

        uint group = (ino - 1) / sb.s_inodes_per_group;
        uint index = (ino - 1) % sb.s_inodes_per_group;
        ulong byteInTable = (ulong)index * (uint)_v.InodeSize;
        return (_v.Groups[group].bg_inode_table + (byteInTable >> _v.BlockSizeBits), (int)(byteInTable & (_v.BlockSize - 1)));
    }

    private Ext4Inode Decode(uint ino, byte[] raw)
    {
        ReadOnlySpan<byte> r = raw;
        var sb = _v.Sb;
        bool allZero = !r.ContainsAnyExcept((byte)0);

        ushort extraIsize = 0;
        if (_v.InodeSize > L.GoodOldInodeSize)
        {
            extraIsize = U16(r, L.i_extra_isize);
            if (L.GoodOldInodeSize + extraIsize > _v.InodeSize || (extraIsize & 3) != 0)
            {
                throw new Ext4CorruptionException(
                    $"inode {ino}: bad i_extra_isize {extraIsize} (inode size {_v.InodeSize})");
            }
        }

        uint generation = U32(r, L.i_generation);
        uint seed = 0;
        if (_v.HasMetadataCsum)
        {
            seed = Crc32c.AppendLe32(_v.CsumSeed, ino);
            seed = Crc32c.AppendLe32(seed, generation);
            if (!allZero)
            {
                VerifyChecksum(ino, r, extraIsize, seed);
            }
        }

        bool Fits(int fieldOffset, int fieldSize) => fieldOffset + fieldSize <= L.GoodOldInodeSize + extraIsize;

        ushort mode = U16(r, L.i_mode);
        uint flags = U32(r, L.i_flags);
        long size = (long)((ulong)U32(r, L.i_size_lo) | ((ulong)U32(r, L.i_size_high) << 32));
        if (size < 0)
        {
            throw new Ext4CorruptionException($"inode {ino}: bad i_size {(ulong)size}");
        }

        ulong blocks = U32(r, L.i_blocks_lo);
        if (sb.HasRoCompat(Ext4Features.RO_COMPAT_HUGE_FILE))
        {
            blocks |= (ulong)U16(r, L.l_i_blocks_high) << 32;
            if ((flags & L.EXT4_HUGE_FILE_FL) != 0)
            {
                blocks <<= _v.BlockSizeBits - 9;
            }
        }

        ulong fileAcl = U32(r, L.i_file_acl_lo);
        if (sb.HasIncompat(Ext4Features.INCOMPAT_64BIT))
        {
            fileAcl |= (ulong)U16(r, L.l_i_file_acl_high) << 32;
        }

        uint rdevMajor = 0, rdevMinor = 0;
        ushort type = (ushort)(mode & L.S_IFMT);
        if (type is L.S_IFCHR or L.S_IFBLK)
        {
            uint old = U32(r, L.i_block);
            if (old != 0)
            {
                // old_decode_dev: 8-bit major, 8-bit minor in i_block[0]
                rdevMajor = (old >> 8) & 0xFF;
                rdevMinor = old & 0xFF;
            }
            else
            {
                // new_decode_dev: i_block[1] = minor[7:0] | major << 8 | minor[19:8] << 20
                uint dev = U32(r, L.i_block + 4);
                rdevMajor = (dev & 0xFFF00) >> 8;
                rdevMinor = (dev & 0xFF) | ((dev >> 12) & 0xFFF00);
            }
        }

        // An inode with no links (deleted, or never allocated) is still decoded: the bridge lists
        // its name in READDIR as the kernel's readdir does and answers LOOKUP with EUCLEAN.
        ushort links = U16(r, L.i_links_count);

        // __ext4_iget: "bogus i_mode" when the type is none of the seven file types (an
        // unallocated inode, mode 0 and no links, is decoded as above).
        if (links != 0 && type is not (L.S_IFREG or L.S_IFDIR or L.S_IFLNK or L.S_IFCHR or L.S_IFBLK or L.S_IFIFO or L.S_IFSOCK))
        {
            throw new Ext4CorruptionException($"inode {ino}: bogus i_mode 0{Convert.ToString(mode, 8)}");
        }

        if ((flags & L.EXT4_INLINE_DATA_FL) != 0 && !sb.HasIncompat(Ext4Features.INCOMPAT_INLINE_DATA))
        {
            throw new Ext4CorruptionException($"inode {ino}: inline data flag set but the feature is off");
        }

        var (atime, atimeNs) = Time(r, L.i_atime, L.i_atime_extra, Fits(L.i_atime_extra, 4));
        var (mtime, mtimeNs) = Time(r, L.i_mtime, L.i_mtime_extra, Fits(L.i_mtime_extra, 4));
        var (ctime, ctimeNs) = Time(r, L.i_ctime, L.i_ctime_extra, Fits(L.i_ctime_extra, 4));
        bool hasCrtime = Fits(L.i_crtime, 4);
        var (crtime, crtimeNs) = hasCrtime ? Time(r, L.i_crtime, L.i_crtime_extra, Fits(L.i_crtime_extra, 4)) : (0L, 0u);

        return new Ext4Inode(ino, raw, extraIsize, seed)
        {
            Mode = mode,
            Uid = U16(r, L.i_uid) | ((uint)U16(r, L.l_i_uid_high) << 16),
            Gid = U16(r, L.i_gid) | ((uint)U16(r, L.l_i_gid_high) << 16),
            Size = size,
            LinksCount = links,
            AtimeSeconds = atime,
            AtimeNanoseconds = atimeNs,
            MtimeSeconds = mtime,
            MtimeNanoseconds = mtimeNs,
            CtimeSeconds = ctime,
            CtimeNanoseconds = ctimeNs,
            CrtimeSeconds = crtime,
            CrtimeNanoseconds = crtimeNs,
            HasCrtime = hasCrtime,
            Blocks512 = blocks,
            Flags = flags,
            Generation = generation,
            RdevMajor = rdevMajor,
            RdevMinor = rdevMinor,
            FileAcl = fileAcl,
        };
    }

    /// <summary>Checks i_checksum (<see cref="InodeChecksum"/>).</summary>
    private void VerifyChecksum(uint ino, ReadOnlySpan<byte> r, ushort extraIsize, uint seed)
    {
        uint c = InodeChecksum.Compute(r, _v.InodeSize, extraIsize, seed, out bool hasHi);
        uint stored = U16(r, L.l_i_checksum_lo);
        if (hasHi)
        {
            stored |= (uint)U16(r, L.i_checksum_hi) << 16;
        }

        if (c != stored)
        {
            throw new Ext4ChecksumException($"inode {ino}: checksum mismatch (stored 0x{stored:x8}, computed 0x{c:x8})");
        }
    }

    /// <summary>
    /// Seconds are the signed 32-bit field plus (extra &amp; 3) &lt;&lt; 32 (EXT4_EPOCH_MASK);
    /// nanoseconds are extra &gt;&gt; 2 (EXT4_NSEC_MASK).
    /// </summary>
    private static (long Seconds, uint Nanoseconds) Time(ReadOnlySpan<byte> r, int field, int extraField, bool hasExtra)
    {
        long seconds = (int)U32(r, field);
        if (!hasExtra)
        {
            return (seconds, 0);
        }

        uint extra = U32(r, extraField);
        seconds += (long)(extra & 3) << 32;
        return (seconds, extra >> 2);
    }

    /// <summary>A decoded inode and the inode-table block array its bytes came from.</summary>
    private sealed record DecodedInode(uint Number, byte[] Block, Ext4Inode Inode);
}
