using Safemount.Shared.Interop;

namespace Safemount.Fuse;

/// <summary>
/// The operations a <see cref="FuseSession"/> dispatches to. Expected failures are returned as
/// <see cref="Errno"/> (None = success; out values are read only then); an exception becomes an
/// error reply through <see cref="TranslateException"/>. Handlers are called concurrently from
/// several worker threads and must not block indefinitely.
/// </summary>
public interface IFuseFileSystem
{
    /// <summary>True: every write opcode is answered EROFS without calling the file system.</summary>
    bool IsReadOnly { get; }

    /// <summary>Called once, before the INIT reply is sent.</summary>
    void Init(FuseInitResult init);

    /// <summary>FUSE_DESTROY, before its reply is sent.</summary>
    void Destroy();

    /// <summary>A successful lookup with a nonzero node id adds one to that node's lookup count.</summary>
    Errno Lookup(in FuseRequestContext ctx, ulong parent, ReadOnlySpan<byte> name, out FuseEntry entry);

    /// <summary>FORGET and each BATCH_FORGET item: subtract <paramref name="nlookup"/> lookups.</summary>
    void Forget(ulong nodeId, ulong nlookup);

    Errno GetAttr(in FuseRequestContext ctx, ulong nodeId, out FuseAttr attr);

    Errno Statx(in FuseRequestContext ctx, ulong nodeId, out FuseAttr attr, out FuseStatxExtra extra);

    /// <summary>The symlink target, without a trailing NUL.</summary>
    Errno ReadLink(in FuseRequestContext ctx, ulong nodeId, out byte[] target);

    /// <summary><paramref name="flags"/> are the open(2) flags; <paramref name="openFlags"/> FOPEN_*.
    /// When writable, FUSE_ATOMIC_O_TRUNC is taken: O_TRUNC in <paramref name="flags"/> means
    /// truncate to 0 here (and <see cref="FuseRequestContext.KillSuidGid"/> says whether to
    /// clear suid/sgid).</summary>
    Errno Open(in FuseRequestContext ctx, ulong nodeId, uint flags, out ulong fh, out uint openFlags);

    /// <summary>Fills <paramref name="destination"/> from <paramref name="offset"/>; fewer bytes
    /// than its length means end of file. Under the writeback cache the kernel also reads to fill
    /// partial pages, so READ may come with the fh of a write-only open.</summary>
    Errno Read(in FuseRequestContext ctx, ulong nodeId, ulong fh, long offset, Span<byte> destination, out int bytesRead);

    void Release(ulong nodeId, ulong fh);

    Errno OpenDir(in FuseRequestContext ctx, ulong nodeId, uint flags, out ulong fh, out uint openFlags);

    /// <summary>Appends entries after cookie <paramref name="offset"/> until the writer is full.
    /// With <paramref name="plus"/>, use <see cref="FuseDirectoryWriter.TryAddPlus"/> and count a
    /// lookup only for entries it accepted with a nonzero node id.</summary>
    Errno ReadDir(in FuseRequestContext ctx, ulong nodeId, ulong fh, ulong offset, bool plus, ref FuseDirectoryWriter writer);

    void ReleaseDir(ulong nodeId, ulong fh);

    Errno StatFs(in FuseRequestContext ctx, ulong nodeId, out FuseStatFs statfs);

    /// <summary>ENODATA when the attribute is absent.</summary>
    Errno GetXattr(in FuseRequestContext ctx, ulong nodeId, ReadOnlySpan<byte> name, out byte[]? value);

    /// <summary>NUL-separated (and NUL-terminated) attribute names.</summary>
    Errno ListXattr(in FuseRequestContext ctx, ulong nodeId, out byte[] names);

    /// <summary>
    /// FUSE_IOCTL (restricted: the kernel decoded the sizes from <paramref name="cmd"/>, as for
    /// fileattr_get's FS_IOC_GETFLAGS and FS_IOC_FSGETXATTR). <paramref name="input"/> holds the
    /// caller's in_size bytes; write at most <paramref name="output"/>.Length (out_size) bytes
    /// and set <paramref name="outputLength"/>. Unknown commands: ENOTTY.
    /// </summary>
    Errno Ioctl(in FuseRequestContext ctx, ulong nodeId, ulong fh, uint cmd, bool directory, ReadOnlySpan<byte> input, Span<byte> output, out int outputLength);

    /// <summary><paramref name="mask"/>: R_OK 4, W_OK 2, X_OK 1, F_OK 0.</summary>
    Errno Access(in FuseRequestContext ctx, ulong nodeId, uint mask);

    Errno Flush(in FuseRequestContext ctx, ulong nodeId, ulong fh);

    Errno Fsync(in FuseRequestContext ctx, ulong nodeId, ulong fh, bool dataOnly, bool directory);

    Errno SyncFs(in FuseRequestContext ctx);

    // ---- Write operations. While IsReadOnly is true the session answers EROFS for every one of
    // them (except Lseek, which only reads) without calling these. Entry-creating operations add
    // one lookup to the node they return, as Lookup does. Names are 1..4095 bytes without NUL.

    /// <summary>FUSE_CREATE: create and open a regular file. <paramref name="mode"/> includes
    /// S_IFREG; <paramref name="flags"/> are the open(2) flags.</summary>
    Errno Create(in FuseRequestContext ctx, ulong parent, ReadOnlySpan<byte> name, uint mode, uint flags, out FuseEntry entry, out ulong fh, out uint openFlags);

    /// <summary>FUSE_TMPFILE (O_TMPFILE): an unnamed regular file in <paramref name="parent"/>,
    /// opened; link count 0 until linkat(2) names it.</summary>
    Errno TmpFile(in FuseRequestContext ctx, ulong parent, uint mode, uint flags, out FuseEntry entry, out ulong fh, out uint openFlags);

    /// <summary>FUSE_MKNOD: regular file, FIFO, socket or device node (<paramref name="rdev"/> in
    /// new_encode_dev format); <paramref name="mode"/> includes the S_IFMT type.</summary>
    Errno MkNod(in FuseRequestContext ctx, ulong parent, ReadOnlySpan<byte> name, uint mode, uint rdev, out FuseEntry entry);

    /// <summary>FUSE_MKDIR: <paramref name="mode"/> holds the permission bits only (no S_IFDIR).</summary>
    Errno MkDir(in FuseRequestContext ctx, ulong parent, ReadOnlySpan<byte> name, uint mode, out FuseEntry entry);

    /// <summary>FUSE_SYMLINK: <paramref name="target"/> is the link text without its NUL.</summary>
    Errno Symlink(in FuseRequestContext ctx, ulong parent, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, out FuseEntry entry);

    /// <summary>FUSE_LINK: a new name in <paramref name="newParent"/> for <paramref name="nodeId"/>.</summary>
    Errno Link(in FuseRequestContext ctx, ulong nodeId, ulong newParent, ReadOnlySpan<byte> newName, out FuseEntry entry);

    Errno Unlink(in FuseRequestContext ctx, ulong parent, ReadOnlySpan<byte> name);

    Errno RmDir(in FuseRequestContext ctx, ulong parent, ReadOnlySpan<byte> name);

    /// <summary>FUSE_RENAME (flags None) and FUSE_RENAME2. Only the three known flag bits reach
    /// here, and never NOREPLACE together with EXCHANGE (the kernel's renameat2 rule).</summary>
    Errno Rename(in FuseRequestContext ctx, ulong parent, ReadOnlySpan<byte> name, ulong newParent, ReadOnlySpan<byte> newName, FuseRenameFlags flags);

    /// <summary>FUSE_SETATTR: apply the fields <paramref name="changes"/>.Valid names, then
    /// report the resulting attributes.</summary>
    Errno SetAttr(in FuseRequestContext ctx, ulong nodeId, in FuseSetAttr changes, out FuseAttr attr);

    /// <summary>
    /// FUSE_WRITE of <paramref name="data"/> at <paramref name="offset"/> (offset + length fits a
    /// loff_t). With <see cref="FuseWriteFlags.FUSE_WRITE_CACHE"/> it is page-cache writeback
    /// (writeback cache negotiated): <paramref name="fh"/> may come from any open of the inode,
    /// even a read-only one, and the kernel owns size and mtime. <paramref name="openFlags"/>
    /// are the open(2) flags of the file. <paramref name="bytesWritten"/> must not exceed the
    /// data length.
    /// </summary>
    Errno Write(in FuseRequestContext ctx, ulong nodeId, ulong fh, long offset, ReadOnlySpan<byte> data, FuseWriteFlags writeFlags, uint openFlags, out uint bytesWritten);

    /// <summary>FUSE_FALLOCATE: fallocate(2) <paramref name="mode"/> bits; modes not implemented
    /// are EOPNOTSUPP (not EINVAL, so fsx and xfs_io turn them off).</summary>
    Errno Fallocate(in FuseRequestContext ctx, ulong nodeId, ulong fh, long offset, long length, uint mode);

    /// <summary>FUSE_SETXATTR. <paramref name="flags"/>: XATTR_CREATE 1, XATTR_REPLACE 2;
    /// <paramref name="setxattrFlags"/>: FUSE_SETXATTR_ACL_KILL_SGID 1 (0 without FUSE_SETXATTR_EXT).
    /// <paramref name="value"/> is at most XATTR_SIZE_MAX bytes.</summary>
    Errno SetXattr(in FuseRequestContext ctx, ulong nodeId, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, uint flags, uint setxattrFlags);

    /// <summary>FUSE_REMOVEXATTR: ENODATA when absent.</summary>
    Errno RemoveXattr(in FuseRequestContext ctx, ulong nodeId, ReadOnlySpan<byte> name);

    /// <summary>FUSE_LSEEK for SEEK_DATA (3) and SEEK_HOLE (4); ENXIO past the end. ENOSYS makes
    /// the kernel fall back to its generic lseek (the whole file is data) for the mount's life.
    /// Called even when read-only.</summary>
    Errno Lseek(in FuseRequestContext ctx, ulong nodeId, ulong fh, long offset, uint whence, out long resultOffset);

    /// <summary>FUSE_COPY_FILE_RANGE(_64): copy <paramref name="length"/> bytes from
    /// (<paramref name="nodeIn"/>, <paramref name="offsetIn"/>) to (<paramref name="nodeOut"/>,
    /// <paramref name="offsetOut"/>). <paramref name="bytesCopied"/> must not exceed
    /// <paramref name="length"/>. ENOSYS/EOPNOTSUPP makes the kernel copy through READ/WRITE.</summary>
    Errno CopyFileRange(in FuseRequestContext ctx, ulong nodeIn, ulong fhIn, long offsetIn, ulong nodeOut, ulong fhOut, long offsetOut, ulong length, ulong flags, out ulong bytesCopied);

    /// <summary>The one exception-to-errno table; must not throw.</summary>
    Errno TranslateException(Exception exception);
}
