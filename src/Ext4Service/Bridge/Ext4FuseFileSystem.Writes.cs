using Safemount.Fuse;
using Safemount.Shared.Interop;

namespace Safemount.Ext4Service.Bridge;

/// <summary>
/// The write half of <see cref="IFuseFileSystem"/>. The engine's write path wires these; until
/// then the volume is read-only (<see cref="IsReadOnly"/> is true), so the FUSE session answers
/// EROFS itself and never calls them. They answer EROFS regardless, so a call cannot change the
/// image. Lseek is the exception: it only reads, is called on read-only mounts too, and answers
/// ENOSYS so the kernel keeps its generic SEEK_DATA/SEEK_HOLE (the whole file is data).
/// </summary>
internal sealed partial class Ext4FuseFileSystem
{
    public Errno Create(in FuseRequestContext ctx, ulong parent, ReadOnlySpan<byte> name, uint mode, uint flags, out FuseEntry entry, out ulong fh, out uint openFlags)
    {
        entry = default;
        fh = 0;
        openFlags = 0;
        return Errno.EROFS;
    }

    public Errno TmpFile(in FuseRequestContext ctx, ulong parent, uint mode, uint flags, out FuseEntry entry, out ulong fh, out uint openFlags)
    {
        entry = default;
        fh = 0;
        openFlags = 0;
        return Errno.EROFS;
    }

    public Errno MkNod(in FuseRequestContext ctx, ulong parent, ReadOnlySpan<byte> name, uint mode, uint rdev, out FuseEntry entry)
    {
        entry = default;
        return Errno.EROFS;
    }

    public Errno MkDir(in FuseRequestContext ctx, ulong parent, ReadOnlySpan<byte> name, uint mode, out FuseEntry entry)
    {
        entry = default;
        return Errno.EROFS;
    }

    public Errno Symlink(in FuseRequestContext ctx, ulong parent, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, out FuseEntry entry)
    {
        entry = default;
        return Errno.EROFS;
    }

    public Errno Link(in FuseRequestContext ctx, ulong nodeId, ulong newParent, ReadOnlySpan<byte> newName, out FuseEntry entry)
    {
        entry = default;
        return Errno.EROFS;
    }

    public Errno Unlink(in FuseRequestContext ctx, ulong parent, ReadOnlySpan<byte> name) => Errno.EROFS;

    public Errno RmDir(in FuseRequestContext ctx, ulong parent, ReadOnlySpan<byte> name) => Errno.EROFS;

    public Errno Rename(in FuseRequestContext ctx, ulong parent, ReadOnlySpan<byte> name, ulong newParent, ReadOnlySpan<byte> newName, FuseRenameFlags flags) => Errno.EROFS;

    public Errno SetAttr(in FuseRequestContext ctx, ulong nodeId, in FuseSetAttr changes, out FuseAttr attr)
    {
        attr = default;
        return Errno.EROFS;
    }

    public Errno Write(in FuseRequestContext ctx, ulong nodeId, ulong fh, long offset, ReadOnlySpan<byte> data, FuseWriteFlags writeFlags, uint openFlags, out uint bytesWritten)
    {
        bytesWritten = 0;
        return Errno.EROFS;
    }

    public Errno Fallocate(in FuseRequestContext ctx, ulong nodeId, ulong fh, long offset, long length, uint mode) => Errno.EROFS;

    public Errno SetXattr(in FuseRequestContext ctx, ulong nodeId, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, uint flags, uint setxattrFlags) => Errno.EROFS;

    public Errno RemoveXattr(in FuseRequestContext ctx, ulong nodeId, ReadOnlySpan<byte> name) => Errno.EROFS;

    public Errno Lseek(in FuseRequestContext ctx, ulong nodeId, ulong fh, long offset, uint whence, out long resultOffset)
    {
        resultOffset = 0;
        return Errno.ENOSYS;
    }

    public Errno CopyFileRange(in FuseRequestContext ctx, ulong nodeIn, ulong fhIn, long offsetIn, ulong nodeOut, ulong fhOut, long offsetOut, ulong length, ulong flags, out ulong bytesCopied)
    {
        bytesCopied = 0;
        return Errno.EROFS;
    }
}
