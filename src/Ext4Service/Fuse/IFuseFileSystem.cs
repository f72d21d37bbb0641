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

    /// <summary><paramref name="flags"/> are the open(2) flags; <paramref name="openFlags"/> FOPEN_*.</summary>
    Errno Open(in FuseRequestContext ctx, ulong nodeId, uint flags, out ulong fh, out uint openFlags);

    /// <summary>Fills <paramref name="destination"/> from <paramref name="offset"/>; fewer bytes
    /// than its length means end of file.</summary>
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

    /// <summary>The one exception-to-errno table; must not throw.</summary>
    Errno TranslateException(Exception exception);
}
