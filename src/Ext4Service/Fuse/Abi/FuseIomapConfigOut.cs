using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>
/// struct fuse_iomap_config_out (fuse-iomap v7 uapi, FUSE-PROTOCOL.md §2.4), 104 bytes (100 used
/// plus 4 bytes of tail padding). FUSE_IOMAP_CONFIG reply: the superblock parameters the kernel
/// copies for each FUSE_IOMAP_CONFIG_* bit set in <see cref="Flags"/>. The char arrays s_id[32]
/// and s_uuid[16] are held as raw bytes and written through <see cref="SetSid"/> and
/// <see cref="SetUuid"/>.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 104)]
internal struct FuseIomapConfigOut
{
    /// <summary>sizeof(struct fuse_iomap_config_out).</summary>
    public const int SizeOf = 104;

    /// <summary>Bytes of s_id.</summary>
    public const int SidLength = 32;

    /// <summary>Bytes of s_uuid.</summary>
    public const int UuidLength = 16;

    /// <summary>Offset of s_id[32].</summary>
    public const int SidOffset = 8;

    /// <summary>Offset of s_uuid[16].</summary>
    public const int UuidOffset = 40;

    /// <summary>flags: FUSE_IOMAP_CONFIG_* naming the valid fields below.</summary>
    [FieldOffset(0)]
    public ulong Flags;

    /// <summary>s_id[0..8): first bytes of the superblock id (NUL-padded; with CONFIG_SID).</summary>
    [FieldOffset(8)]
    public ulong SId0;

    /// <summary>s_id[8..16).</summary>
    [FieldOffset(16)]
    public ulong SId1;

    /// <summary>s_id[16..24).</summary>
    [FieldOffset(24)]
    public ulong SId2;

    /// <summary>s_id[24..32).</summary>
    [FieldOffset(32)]
    public ulong SId3;

    /// <summary>s_uuid[0..8): the file system UUID (with CONFIG_UUID).</summary>
    [FieldOffset(40)]
    public ulong SUuid0;

    /// <summary>s_uuid[8..16).</summary>
    [FieldOffset(48)]
    public ulong SUuid1;

    /// <summary>s_uuid_len: valid bytes of s_uuid (at most 16).</summary>
    [FieldOffset(56)]
    public byte SUuidLen;

    /// <summary>s_pad[3]: must be zero (the kernel refuses the reply otherwise).</summary>
    [FieldOffset(57)]
    public byte SPad0;

    /// <summary>s_pad[1].</summary>
    [FieldOffset(58)]
    public byte SPad1;

    /// <summary>s_pad[2].</summary>
    [FieldOffset(59)]
    public byte SPad2;

    /// <summary>s_blocksize: file system block size, bytes (with CONFIG_BLOCKSIZE).</summary>
    [FieldOffset(60)]
    public uint SBlocksize;

    /// <summary>s_max_links: largest link count (with CONFIG_MAX_LINKS).</summary>
    [FieldOffset(64)]
    public uint SMaxLinks;

    /// <summary>s_time_gran: timestamp granularity, ns (with CONFIG_TIME).</summary>
    [FieldOffset(68)]
    public uint STimeGran;

    /// <summary>s_time_min: earliest representable time, seconds since the epoch (s64).</summary>
    [FieldOffset(72)]
    public long STimeMin;

    /// <summary>s_time_max: latest representable time, seconds since the epoch (s64).</summary>
    [FieldOffset(80)]
    public long STimeMax;

    /// <summary>s_maxbytes: largest file size, bytes (with CONFIG_MAXBYTES).</summary>
    [FieldOffset(88)]
    public long SMaxbytes;

    /// <summary>cache_maxbytes: per-inode mapping-cache limit, bytes (with CONFIG_CACHE_MAXBYTES).</summary>
    [FieldOffset(96)]
    public uint CacheMaxbytes;

    /// <summary>Copies <paramref name="id"/> (at most 31 bytes, so a NUL always ends it) into s_id.</summary>
    public void SetSid(ReadOnlySpan<byte> id)
    {
        Span<byte> raw = MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref this, 1)).Slice(SidOffset, SidLength);
        raw.Clear();
        id[..Math.Min(id.Length, SidLength - 1)].CopyTo(raw);
    }

    /// <summary>Copies <paramref name="uuid"/> (at most 16 bytes) into s_uuid and sets s_uuid_len.</summary>
    public void SetUuid(ReadOnlySpan<byte> uuid)
    {
        int n = Math.Min(uuid.Length, UuidLength);
        Span<byte> raw = MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref this, 1)).Slice(UuidOffset, UuidLength);
        raw.Clear();
        uuid[..n].CopyTo(raw);
        this.SUuidLen = (byte)n;
    }
}
