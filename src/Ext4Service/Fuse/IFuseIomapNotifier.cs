using Safemount.Shared.Interop;

namespace Safemount.Fuse;

/// <summary>
/// The fuse-iomap v7 notifications a file system sends to the kernel (FUSE-PROTOCOL.md §2.5,
/// §2.7), implemented by <see cref="FuseSession"/>. Each answers ENOSYS unless FUSE_IOMAP was
/// negotiated (a mainline kernel would reject the codes), ENODEV outside a live session, and
/// otherwise the kernel's answer (ESTALE: the node is not cached; EINVAL: attr_ino mismatch or
/// a mapping the kernel declines to cache). Any thread may call them; they never wait for a
/// FUSE request, and the kernel takes no inode lock of the file system to process them.
/// </summary>
public interface IFuseIomapNotifier
{
    /// <summary>FUSE_IOMAP_INVAL_TO_EOF: an INVAL length meaning "to the end of the file".</summary>
    public const ulong InvalToEof = Abi.FuseAbi.FUSE_IOMAP_INVAL_TO_EOF;

    /// <summary>FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS: cache <paramref name="read"/> and
    /// <paramref name="write"/> (type NOCACHE skips a half) for node <paramref name="nodeId"/>.</summary>
    Errno NotifyIomapUpsertMappings(ulong nodeId, ulong attrIno, in FuseIomapMapping read, in FuseIomapMapping write);

    /// <summary>FUSE_NOTIFY_IOMAP_INVAL_MAPPINGS: drop cached mappings of node
    /// <paramref name="nodeId"/> over file bytes [offset, offset + length) in both forks
    /// (length <see cref="InvalToEof"/>: to the end). Offset and length block aligned.</summary>
    Errno NotifyIomapInvalMappings(ulong nodeId, ulong attrIno, ulong offset, ulong length);

    /// <summary>FUSE_NOTIFY_IOMAP_DEV_INVAL: drop the page cache of backing device
    /// <paramref name="backingId"/> over device bytes [offset, offset + length).</summary>
    Errno NotifyIomapDevInval(uint backingId, ulong offset, ulong length);
}
