using Safemount.Fuse.Abi;

namespace Safemount.Fuse;

/// <summary>
/// One half of an IOMAP_BEGIN answer, in the terms of struct fuse_iomap_io (FUSE-PROTOCOL.md
/// §2.4): file bytes [<see cref="Offset"/>, <see cref="Offset"/> + <see cref="Length"/>) map to
/// device bytes from <see cref="Addr"/> on backing id <see cref="Dev"/>. HOLE, DELALLOC, INLINE
/// and PURE_OVERWRITE carry <see cref="FuseAbi.FUSE_IOMAP_NULL_ADDR"/> and dev 0.
/// </summary>
public readonly record struct FuseIomapMapping(ulong Offset, ulong Length, ulong Addr, FuseIomapType Type, FuseIomapFlags Flags, uint Dev)
{
    /// <summary>A mapping with no device: HOLE, DELALLOC, INLINE or PURE_OVERWRITE.</summary>
    public static FuseIomapMapping WithoutDevice(FuseIomapType type, ulong offset, ulong length, FuseIomapFlags flags = FuseIomapFlags.None) =>
        new(offset, length, FuseAbi.FUSE_IOMAP_NULL_ADDR, type, flags, FuseAbi.FUSE_IOMAP_DEV_NULL);

    /// <summary>The write half libfuse sends for every in-place file system (§2.7): writes go
    /// where <paramref name="read"/> says, over the same range.</summary>
    public static FuseIomapMapping PureOverwrite(in FuseIomapMapping read) =>
        WithoutDevice(FuseIomapType.FUSE_IOMAP_TYPE_PURE_OVERWRITE, read.Offset, read.Length);

    internal FuseIomapIo ToWire() => new()
    {
        Offset = this.Offset,
        Length = this.Length,
        Addr = this.Addr,
        Type = (ushort)this.Type,
        Flags = (ushort)this.Flags,
        Dev = this.Dev,
    };

    internal static FuseIomapMapping FromWire(in FuseIomapIo io) =>
        new(io.Offset, io.Length, io.Addr, (FuseIomapType)io.Type, (FuseIomapFlags)io.Flags, io.Dev);
}
