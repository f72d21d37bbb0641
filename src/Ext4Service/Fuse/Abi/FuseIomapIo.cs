using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_iomap_io (fuse-iomap v7 uapi, FUSE-PROTOCOL.md §2.4), 32 bytes. One mapping (one half of a BEGIN reply, END's map, an UPSERT half).</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
internal struct FuseIomapIo
{
    /// <summary>sizeof(struct fuse_iomap_io).</summary>
    public const int SizeOf = 32;

    /// <summary>offset: file offset of the mapping, bytes (block aligned).</summary>
    [FieldOffset(0)]
    public ulong Offset;

    /// <summary>length: bytes mapped (&gt; 0, block aligned).</summary>
    [FieldOffset(8)]
    public ulong Length;

    /// <summary>addr: device byte offset, or FUSE_IOMAP_NULL_ADDR for HOLE, DELALLOC and INLINE.</summary>
    [FieldOffset(16)]
    public ulong Addr;

    /// <summary>type: FUSE_IOMAP_TYPE_* (<see cref="FuseIomapType"/>).</summary>
    [FieldOffset(24)]
    public ushort Type;

    /// <summary>flags: FUSE_IOMAP_F_* (<see cref="FuseIomapFlags"/>).</summary>
    [FieldOffset(26)]
    public ushort Flags;

    /// <summary>dev: backing id from BACKING_OPEN with FUSE_BACKING_TYPE_IOMAP; FUSE_IOMAP_DEV_NULL (0) for none.</summary>
    [FieldOffset(28)]
    public uint Dev;
}
