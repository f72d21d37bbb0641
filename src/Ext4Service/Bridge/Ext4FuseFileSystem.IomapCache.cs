using System.Numerics;
using Safemount.Ext4;
using Safemount.Fuse;
using Safemount.Fuse.Abi;
using Safemount.Shared.Interop;

namespace Safemount.Ext4Service.Bridge;

/// <summary>
/// The kernel-side caches of a fuse-iomap session (FUSE-PROTOCOL.md §2.5, §2.7, §2.8): mappings
/// the kernel may use without asking (UPSERT after BEGIN, INVAL when the engine unmaps or
/// converts blocks) and the block device's page cache over freed blocks (DEV_INVAL when they
/// become reusable). Nothing is sent unless this session registered the device in IOMAP_CONFIG
/// (so FUSE_IOMAP was negotiated) and <see cref="IomapNotifier"/> is set; the session refuses the
/// codes on a mainline connection as well.
/// </summary>
/// <remarks>
/// Ordering against block reuse: the engine calls <see cref="OnFileMappingChanging"/> under the
/// inode's exclusive lock before it frees or converts anything, so the INVAL reaches the kernel
/// before a freed block is even free in the bitmap; the DEV_INVAL for a freed block goes out
/// before the allocator may hand it out again (<see cref="Ext4Volume.BlocksReusable"/>): at the
/// end of the commit that made the free durable, or at the free without a journal. Hence the
/// kernel never holds a mapping of, or bdev page-cache copy of, a block that already belongs to
/// someone else. Only blocks that exist and are not new are pushed (<see cref="UpsertAfterBegin"/>).
/// </remarks>
internal sealed partial class Ext4FuseFileSystem
{
    /// <summary>Largest loff_t.</summary>
    private const ulong MaxLoff = long.MaxValue;

    private readonly MappingEpochs _mappingEpochs = new();

    /// <summary>s_maxbytes reported in IOMAP_CONFIG (bytes; written before <see cref="_backingId"/>
    /// is published): the kernel rejects an INVAL that starts at or past it.</summary>
    private ulong _iomapMaxBytes;

    /// <summary>Where UPSERT/INVAL/DEV_INVAL go: the FUSE session, set once after it is created
    /// and before it runs. Null: nothing is sent.</summary>
    public IFuseIomapNotifier? IomapNotifier { get; set; }

    /// <summary>The notifier, when this session speaks fuse-iomap (IOMAP_CONFIG registered the
    /// device); null otherwise.</summary>
    private IFuseIomapNotifier? LiveNotifier(out uint backingId)
    {
        backingId = Volatile.Read(ref _backingId);
        return backingId == 0 ? null : IomapNotifier;
    }

    /// <summary><see cref="Ext4Volume.FileMappingChanging"/>: logical blocks [first, first + count)
    /// of regular file <paramref name="ino"/> are about to be unmapped or converted; drop them
    /// from the kernel's cache (both forks) and keep racing BEGINs from caching them again.</summary>
    private void OnFileMappingChanging(uint ino, ulong first, ulong count)
    {
        IFuseIomapNotifier? notifier = LiveNotifier(out _);
        if (notifier is null)
        {
            return;
        }

        int bits = BitOperations.Log2(_volume.BlockSize);
        ulong offset = first << bits;
        if (_lookups.Get(NodeIds.FromInode(ino)) == 0 || first > MaxLoff >> bits || offset >= Volatile.Read(ref _iomapMaxBytes))
        {
            // No message: without a lookup the kernel holds no inode, hence no cache (an orphan
            // freed after its FORGET, a file nobody looked up); past s_maxbytes nothing can be
            // cached (and the kernel would reject the range). The bump still keeps a BEGIN that
            // races with a new LOOKUP from pushing what it read before the change.
            _mappingEpochs.Change(ino, null);
            return;
        }

        ulong length = count == ulong.MaxValue || count > (MaxLoff - offset) >> bits ? IFuseIomapNotifier.InvalToEof : count << bits;
        Errno rc = Errno.None;
        _mappingEpochs.Change(ino, () => rc = notifier.NotifyIomapInvalMappings(NodeIds.FromInode(ino), ino, offset, length));

        // ESTALE: the kernel does not hold the inode, so it caches nothing of it; ENODEV: the
        // session is over, and with it every cache.
        if (rc is not (Errno.None or Errno.ESTALE or Errno.ENODEV))
        {
            BridgeLog.IomapInvalFailed(_logger, ino, offset, length, rc);
        }
    }

    /// <summary><see cref="Ext4Volume.BlocksReusable"/>: blocks [start, start + count) may be
    /// allocated again once this returns; the block device's page cache must hold no copy of
    /// them that could be written back over their next contents.</summary>
    private void OnBlocksReusable(ulong start, ulong count)
    {
        IFuseIomapNotifier? notifier = LiveNotifier(out uint backingId);
        if (notifier is null)
        {
            return;
        }

        int bits = BitOperations.Log2(_volume.BlockSize);
        Errno rc = notifier.NotifyIomapDevInval(backingId, start << bits, count << bits);

        // ENODEV: the session is over (e.g. the last commit at unmount), the kernel caches nothing.
        if (rc is not (Errno.None or Errno.ENODEV))
        {
            BridgeLog.IomapDevInvalFailed(_logger, start, count, rc);
        }
    }

    /// <summary>
    /// After a BEGIN answer: push the read mapping into the kernel's cache (write fork NOCACHE),
    /// so later lookups of that range need no upcall. The reply itself still carries the mapping
    /// (not RETRY_CACHE), so a declined push costs nothing. Pushed: MAPPED and UNWRITTEN mappings
    /// of blocks that existed before this request, for any op but REPORT (as fuse4fs). Not pushed:
    /// holes (a later allocation would leave a cached hole over data: for a block-mapped file no
    /// IOEND comes to drop it), inline data (moved by fh-less READ/WRITE), and new blocks (their
    /// NEW|DIRTY flags describe this one I/O: cached, NEW would zero around later writes and a
    /// copy without DIRTY would let O_DSYNC skip the commit of the allocation), nor any mapping
    /// answered DIRTY (changes not yet durable, <see cref="ToIomap"/>): the flag describes the
    /// volume now, and a cached copy would keep it, or lose it, after the commit.
    /// <paramref name="epoch"/> was read before the lookup (<see cref="MappingEpochs"/>).
    /// </summary>
    private void UpsertAfterBegin(uint ino, FuseIomapOp op, in Ext4Mapping m, FuseIomapMapping read, long epoch)
    {
        if ((op & FuseIomapOp.FUSE_IOMAP_OP_REPORT) != 0 || m.New || m.Kind is not (Ext4MappingKind.Mapped or Ext4MappingKind.Unwritten)
            || (read.Flags & FuseIomapFlags.FUSE_IOMAP_F_DIRTY) != 0)
        {
            return;
        }

        IFuseIomapNotifier? notifier = LiveNotifier(out _);
        if (notifier is null)
        {
            return;
        }

        Errno rc = Errno.None;
        FuseIomapMapping skip = FuseIomapMapping.WithoutDevice(FuseIomapType.FUSE_IOMAP_TYPE_NOCACHE, read.Offset, read.Length);
        _mappingEpochs.PublishIfUnchanged(ino, epoch, () => rc = notifier.NotifyIomapUpsertMappings(NodeIds.FromInode(ino), ino, read, skip));

        // ENOMEM / EINVAL: the kernel declined to cache it, which is not corruption (§2.8);
        // ENODEV: the session is over.
        if (rc is not (Errno.None or Errno.ENOMEM or Errno.EINVAL or Errno.ENODEV))
        {
            BridgeLog.IomapUpsertFailed(_logger, ino, read.Offset, read.Length, rc);
        }
    }
}
