using Safemount.Fuse.Abi;
using Safemount.Shared.Interop;

namespace Safemount.Fuse;

/// <summary>
/// The fuse-iomap v7 operations (FUSE-PROTOCOL.md §2.3, §2.7). A file system that implements
/// this next to <see cref="IFuseFileSystem"/> may get FUSE_IOMAP negotiated (kernel minor 99,
/// bit 43, and <see cref="FuseSessionOptions.AllowIomap"/>); without it every iomap opcode is
/// answered ENOSYS. Node ids come from the header, <c>attrIno</c> is the fuse_attr.ino the file
/// system reported for that node (the kernel echoes it; a mismatch is the caller's ESTALE).
/// Offsets and lengths are bytes; the session has checked that pos + count fits a loff_t.
/// </summary>
public interface IFuseIomapFileSystem
{
    /// <summary>FUSE_IOMAP_CONFIG (nodeid 0, once): register the block device(s) through
    /// <paramref name="device"/> and report the superblock parameters.</summary>
    Errno IomapConfig(IFuseIomapDevice device, long kernelMaxBytes, out FuseIomapConfig config);

    /// <summary>FUSE_IOMAP_BEGIN: the mapping of the range starting at <paramref name="pos"/>.
    /// Both halves must contain <paramref name="pos"/>, be block aligned and non-empty (§2.7;
    /// the session checks and answers EIO otherwise). For reads, REPORT and pure overwrites the
    /// write half is <see cref="FuseIomapMapping.PureOverwrite"/> of the read half.</summary>
    Errno IomapBegin(in FuseRequestContext ctx, ulong nodeId, ulong attrIno, FuseIomapOp op, long pos, long count, out FuseIomapMapping read, out FuseIomapMapping write);

    /// <summary>FUSE_IOMAP_END: the kernel is done with <paramref name="map"/>; <paramref name="written"/>
    /// bytes of <paramref name="count"/> went through it.</summary>
    Errno IomapEnd(in FuseRequestContext ctx, ulong nodeId, ulong attrIno, FuseIomapOp op, long pos, long count, long written, in FuseIomapMapping map);

    /// <summary>FUSE_IOMAP_IOEND: <paramref name="written"/> bytes from <paramref name="pos"/>
    /// reached the disk (or failed with <paramref name="error"/> ≠ None). Convert unwritten
    /// blocks, raise the on-disk size, and report it in <paramref name="newSize"/>.</summary>
    Errno IomapIoend(in FuseRequestContext ctx, ulong nodeId, ulong attrIno, FuseIomapIoendFlags flags, Errno error, long pos, long written, out long newSize);

    /// <summary>FUSE_FREEZE_FS: second stage of a freeze; make the disk consistent.</summary>
    Errno FreezeFs(in FuseRequestContext ctx, ulong unlinked);

    /// <summary>FUSE_UNFREEZE_FS.</summary>
    Errno UnfreezeFs(in FuseRequestContext ctx);

    /// <summary>FUSE_SHUTDOWN_FS: the device is going away; stop writing.</summary>
    Errno ShutdownFs(in FuseRequestContext ctx, ulong flags);
}
