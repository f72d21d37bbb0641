using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Safemount.Ext4;
using Safemount.Fuse;
using Safemount.Shared.Interop;

namespace Safemount.Ext4Service.Bridge;

/// <summary>
/// The one class that sees both FUSE and ext4: it answers FUSE requests from an
/// <see cref="Ext4Volume"/>. Node ids follow inode numbers (<see cref="NodeIds"/>); lookup counts
/// are kept exactly (<see cref="LookupCounts"/>); exceptions become errno in
/// <see cref="TranslateException"/> only.
/// </summary>
/// <remarks>
/// Thread safety: every member may be called from several FUSE worker threads at once. The
/// volume is thread-safe; the handle tables and lookup counts synchronise themselves.
/// </remarks>
internal sealed partial class Ext4FuseFileSystem : IFuseFileSystem, IFuseIomapFileSystem
{
    /// <summary>FOPEN_KEEP_CACHE: the page cache stays valid across opens (the service is the
    /// only writer, and read-only for now).</summary>
    private const uint FOPEN_KEEP_CACHE = 1 << 1;

    /// <summary>FOPEN_CACHE_DIR: the kernel may cache READDIR output.</summary>
    private const uint FOPEN_CACHE_DIR = 1 << 3;

    private const int O_ACCMODE = 3;

    private readonly Ext4Volume _volume;
    private readonly ILogger _logger;
    private readonly LookupCounts _lookups = new();
    private readonly HandleTable<OpenFile> _files = new();
    private readonly HandleTable<DirectorySnapshot> _dirs = new();

    /// <summary>Set once by <see cref="Init"/>, before any other request.</summary>
    private bool _writebackCache;

    /// <param name="iomapDevice">The block device to register in FUSE_IOMAP_CONFIG when the
    /// session may negotiate fuse-iomap; null: every iomap request is refused (ENODEV).</param>
    public Ext4FuseFileSystem(Ext4Volume volume, ILogger logger, SafeHandle? iomapDevice = null)
    {
        _volume = volume;
        _logger = logger;
        _iomapDevice = iomapDevice;

        // The kernel holds an inode while it has a lookup on it (open files included): an unlink
        // of the last name then leaves it on the orphan list until FORGET drops the count to 0.
        _volume.IsReferenced = ino => _lookups.Get(NodeIds.FromInode(ino)) > 0;

        // fuse-iomap: the kernel's mapping and block-device caches follow the engine's frees and
        // conversions (IomapCache); without a device to register iomap cannot be negotiated.
        if (iomapDevice is not null)
        {
            _volume.FileMappingChanging = OnFileMappingChanging;
            _volume.BlocksReusable = OnBlocksReusable;
        }
    }

    public bool IsReadOnly => _volume.IsReadOnly;

    /// <summary>Lookup counts, for tests and the DESTROY summary.</summary>
    internal LookupCounts Lookups => _lookups;

    public void Init(FuseInitResult init)
    {
        _writebackCache = init.WritebackCache;
        BridgeLog.Initialised(_logger, init.KernelMajor, init.KernelMinor, init.MaxWrite);
    }

    /// <summary>
    /// FUSE_DESTROY (umount): every reference is gone, so orphans whose FORGET never came are
    /// released, and the volume is synced and marked clean.
    /// </summary>
    public void Destroy()
    {
        BridgeLog.Destroyed(_logger, _lookups.Count, _files.Count, _dirs.Count);
        if (!_volume.IsReadOnly)
        {
            _volume.IsReferenced = null;
            _volume.CleanupOrphans(loadFromDisk: false);
        }

        _volume.Unmount();
    }

    public Errno Lookup(in FuseRequestContext ctx, ulong parent, ReadOnlySpan<byte> name, out FuseEntry entry)
    {
        entry = default;
        Errno e = GetDirectory(parent, out Ext4Inode? dir);
        if (e != Errno.None)
        {
            return e;
        }

        if (name.Length > 255)
        {
            return Errno.ENAMETOOLONG;
        }

        uint ino = _volume.Lookup(dir!.Number, name, out _);
        if (ino == 0)
        {
            return Errno.ENOENT;
        }

        Ext4Inode child = _volume.ReadInode(ino);
        if (!child.MayBeNamed)
        {
            // As ext4_lookup / check_igot_inode: a name that leads to a deleted inode or to an
            // xattr value inode is corruption (EFSCORRUPTED).
            string what = child.LinksCount == 0 ? "deleted inode" : "EA inode";
            throw new Ext4CorruptionException($"{what} {ino} referenced from directory inode {dir!.Number}");
        }

        entry = MakeEntry(child);
        _lookups.Add(entry.NodeId);
        return Errno.None;
    }

    public void Forget(ulong nodeId, ulong nlookup)
    {
        if (!_lookups.Forget(nodeId, nlookup, out bool gone))
        {
            BridgeLog.ForgetUnderflow(_logger, nodeId, nlookup);
        }

        // The kernel dropped its last reference: an unlinked orphan is freed now (ext4_evict_inode).
        if (gone && !_volume.IsReadOnly)
        {
            _volume.ReleaseIfOrphan(NodeIds.ToInode(nodeId));
        }
    }

    public Errno GetAttr(in FuseRequestContext ctx, ulong nodeId, out FuseAttr attr)
    {
        attr = default;
        Errno e = GetInode(nodeId, out Ext4Inode? inode);
        if (e == Errno.None)
        {
            attr = AttrMapper.ToAttr(inode!, _volume.BlockSize);
        }

        return e;
    }

    public Errno Statx(in FuseRequestContext ctx, ulong nodeId, out FuseAttr attr, out FuseStatxExtra extra)
    {
        attr = default;
        extra = default;
        Errno e = GetInode(nodeId, out Ext4Inode? inode);
        if (e == Errno.None)
        {
            attr = AttrMapper.ToAttr(inode!, _volume.BlockSize);
            extra = AttrMapper.ToStatxExtra(inode!);
        }

        return e;
    }

    public Errno ReadLink(in FuseRequestContext ctx, ulong nodeId, out byte[] target)
    {
        target = [];
        Errno e = GetInode(nodeId, out Ext4Inode? inode);
        if (e != Errno.None)
        {
            return e;
        }

        if (!inode!.IsSymlink)
        {
            return Errno.EINVAL;
        }

        byte[]? read = _volume.ReadSymlink(inode.Number);
        if (read is null)
        {
            return Errno.EINVAL;
        }

        target = read;
        return Errno.None;
    }

    public Errno Open(in FuseRequestContext ctx, ulong nodeId, uint flags, out ulong fh, out uint openFlags)
    {
        fh = 0;
        openFlags = 0;
        Errno e = GetInode(nodeId, out Ext4Inode? inode);
        if (e != Errno.None)
        {
            return e;
        }

        if (inode!.IsDirectory)
        {
            return Errno.EISDIR;
        }

        if (IsReadOnly && (flags & O_ACCMODE) != FileInterop.O_RDONLY)
        {
            return Errno.EROFS;
        }

        // may_open: an immutable inode opens for reading only (O_TRUNC asks for write access too);
        // an append-only one for writing only with O_APPEND, and never with O_TRUNC. The kernel
        // cannot check this itself: FUSE does not carry i_flags.
        bool writeAccess = (flags & O_ACCMODE) != FileInterop.O_RDONLY || (flags & O_TRUNC) != 0;
        if ((inode.IsImmutable && writeAccess)
            || (inode.IsAppendOnly && (((flags & O_ACCMODE) != FileInterop.O_RDONLY && (flags & FileInterop.O_APPEND) == 0) || (flags & O_TRUNC) != 0)))
        {
            return Errno.EPERM;
        }

        if ((flags & O_TRUNC) != 0 && (flags & O_ACCMODE) != FileInterop.O_RDONLY && inode.IsRegular)
        {
            // FUSE_ATOMIC_O_TRUNC: the kernel leaves O_TRUNC to OPEN. An empty file is truncated
            // too: preallocated blocks past EOF go, as ext4's O_TRUNC does.
            Ext4Errno r = _volume.SetAttributes(inode.Number, new Ext4AttributeChange { Size = 0 }, out Ext4Inode? truncated);
            if (r != Ext4Errno.None)
            {
                return ToErrno(r);
            }

            inode = truncated!;
        }

        fh = _files.Add(new OpenFile(inode));
        openFlags = FOPEN_KEEP_CACHE;
        return Errno.None;
    }

    public Errno Read(in FuseRequestContext ctx, ulong nodeId, ulong fh, long offset, Span<byte> destination, out int bytesRead)
    {
        bytesRead = 0;
        if (offset < 0)
        {
            return Errno.EINVAL;
        }

        Ext4Inode? inode = _files.Get(fh)?.Inode;
        if (inode is null || NodeIds.FromInode(inode.Number) != nodeId)
        {
            // No handle (or a handle of another node): read by node id, as for fh-less reads.
            Errno e = GetInode(nodeId, out inode);
            if (e != Errno.None)
            {
                return e;
            }
        }

        if (inode!.IsDirectory)
        {
            return Errno.EISDIR;
        }

        // A read-write volume changes under open files: read the current inode under its lock.
        bytesRead = IsReadOnly ? _volume.Read(inode, offset, destination) : _volume.ReadFile(inode.Number, offset, destination);
        return Errno.None;
    }

    public void Release(ulong nodeId, ulong fh) => _files.Remove(fh);

    public Errno StatFs(in FuseRequestContext ctx, ulong nodeId, out FuseStatFs statfs)
    {
        Ext4StatFs s = _volume.StatFs();
        statfs = new FuseStatFs(s.Blocks, s.FreeBlocks, s.AvailableBlocks, s.Files, s.FreeFiles, s.BlockSize, s.NameMax, s.BlockSize);
        return Errno.None;
    }

    public Errno Access(in FuseRequestContext ctx, ulong nodeId, uint mask)
    {
        // With default_permissions (always set by the helper) the kernel checks permissions
        // itself and does not send ACCESS; answer existence and the read-only rule anyway.
        const uint W_OK = 2;
        Errno e = GetInode(nodeId, out _);
        if (e != Errno.None)
        {
            return e;
        }

        return (mask & W_OK) != 0 && IsReadOnly ? Errno.EROFS : Errno.None;
    }

    /// <summary>
    /// FLUSH (sent at every close(2)) has nothing to do here: before sending it the kernel has
    /// written back the file's dirty pages and waited for those WRITEs (fs/fuse/file.c,
    /// fuse_flush: write_inode_now, fuse_sync_writes), and POSIX locks stay in the kernel
    /// (FUSE_POSIX_LOCKS is not negotiated), so no lock_owner needs releasing. ENOSYS makes the
    /// kernel set fc->no_flush and send no further FLUSH on this connection, while close(2)
    /// still returns 0 and still reports write-back errors: one request less per close(2)
    /// (bench/RESULTS.md: 7 instead of 8 requests per small file created and written).
    /// </summary>
    public Errno Flush(in FuseRequestContext ctx, ulong nodeId, ulong fh) => Errno.ENOSYS;

    /// <summary>FSYNC and FSYNCDIR: until metadata is journaled (issue 5) a file's durability is the whole volume's write-back.</summary>
    public Errno Fsync(in FuseRequestContext ctx, ulong nodeId, ulong fh, bool dataOnly, bool directory)
    {
        _volume.Sync();
        return Errno.None;
    }

    public Errno SyncFs(in FuseRequestContext ctx)
    {
        _volume.Sync();
        return Errno.None;
    }

    /// <summary>
    /// The one exception-to-errno site. Corruption and device errors found while serving are also
    /// recorded in the superblock of a read-write volume (errors= then decides: continue,
    /// read-only, or shut down), as the kernel's ext4_error does.
    /// </summary>
    public Errno TranslateException(Exception exception)
    {
        switch (exception)
        {
            case Ext4ChecksumException c:
                BridgeLog.Checksum(_logger, c.Message);
                _volume.ReportError(c, "safemount_request");
                break;
            case Ext4CorruptionException c:
                BridgeLog.Corruption(_logger, c.Message);
                _volume.ReportError(c, "safemount_request");
                break;
            case Ext4IOException io:
                BridgeLog.DeviceError(_logger, io.Message);
                _volume.ReportError(io, "safemount_request");
                break;
            case ErrnoException or Ext4ReadOnlyException or Ext4ShutDownException:
                break;
            default:
                BridgeLog.Unexpected(_logger, exception);
                break;
        }

        return ErrnoTable.ToErrno(exception);
    }

    private FuseEntry MakeEntry(Ext4Inode inode) =>
        new(NodeIds.FromInode(inode.Number), inode.Generation, AttrMapper.ToAttr(inode, _volume.BlockSize));

    private Errno GetInode(ulong nodeId, out Ext4Inode? inode)
    {
        inode = null;
        uint ino = NodeIds.ToInode(nodeId);
        if (ino == 0)
        {
            return Errno.ESTALE;
        }

        inode = _volume.ReadInode(ino);
        if (!IsReadOnly && (inode.Mode == 0 || (inode.LinksCount == 0 && !_volume.IsUnlinkedOrphan(inode))))
        {
            // A node the kernel still names whose inode was freed (or reused and freed again).
            inode = null;
            return Errno.ESTALE;
        }

        return Errno.None;
    }

    private Errno GetDirectory(ulong nodeId, out Ext4Inode? inode)
    {
        Errno e = GetInode(nodeId, out inode);
        if (e == Errno.None && !inode!.IsDirectory)
        {
            inode = null;
            return Errno.ENOTDIR;
        }

        return e;
    }
}
