using System.Runtime.InteropServices;
using Safemount.Ext4;
using Safemount.Fuse;
using Safemount.Fuse.Abi;
using Safemount.Shared.Interop;

namespace Safemount.Ext4Service.Bridge;

/// <summary>
/// fuse-iomap v7 (FUSE-PROTOCOL.md §2.2-2.8): the kernel moves file data between its page cache
/// and the block device; this answers where the bytes live. Node ids map to inodes as
/// everywhere (NodeIds), and attr_ino must be that inode's number (AttrMapper reports it as
/// fuse_attr.ino), else ESTALE. Device addresses are bytes: physical block × block size, on the
/// backing id registered in IOMAP_CONFIG.
/// </summary>
internal sealed partial class Ext4FuseFileSystem
{
    /// <summary>EXT4_LINK_MAX (ext4.h).</summary>
    private const uint Ext4LinkMax = 65000;

    /// <summary>Extended ext4 timestamps reach S32_MIN + 2^34 − 1 (EXT4_EXTRA_TIMESTAMP_MAX).</summary>
    private const long ExtraTimestampMax = int.MinValue + (1L << 34) - 1;

    /// <summary>The block device fd (borrowed; owned by the mount request); null without iomap.</summary>
    private readonly SafeHandle? _iomapDevice;

    /// <summary>Backing id of the block device (0 until IOMAP_CONFIG registered it). Written
    /// once (volatile) by the CONFIG handler before its reply; every BEGIN comes after that
    /// reply, the engine's callbacks may come from any thread (IomapCache).</summary>
    private uint _backingId;

    public Errno IomapConfig(IFuseIomapDevice device, long kernelMaxBytes, out FuseIomapConfig config)
    {
        config = null!;
        if (_iomapDevice is null)
        {
            return Errno.ENODEV;
        }

        Errno rc = device.IomapBackingOpen(_iomapDevice, out uint id);
        if (rc != Errno.None)
        {
            BridgeLog.IomapBackingOpenFailed(_logger, rc);
            return rc;
        }

        // Keeps bdev page-cache pages from aliasing file blocks (§2.2 step 6); a pre-v7 kernel
        // answers ENOTTY and the mount still works.
        Errno bs = device.IomapSetBlockSize(id, _volume.BlockSize);
        if (bs != Errno.None)
        {
            BridgeLog.IomapSetBlockSizeFailed(_logger, bs);
        }

        long maxBytes = Math.Min(_volume.MaxFileBytes, kernelMaxBytes);
        Volatile.Write(ref _iomapMaxBytes, (ulong)maxBytes);
        Volatile.Write(ref _backingId, id);
        BridgeLog.IomapRegistered(_logger, id, _volume.BlockSize);
        bool extra = _volume.HasExtraTimestamps;
        string label = _volume.Label;
        config = new FuseIomapConfig(
            System.Text.Encoding.UTF8.GetBytes(label.Length > 0 ? label : "safe.ext4"),
            _volume.Uuid.ToByteArray(bigEndian: true),
            _volume.BlockSize,
            Ext4LinkMax,
            extra ? 1U : 1_000_000_000U,
            int.MinValue,
            extra ? ExtraTimestampMax : int.MaxValue,
            maxBytes,
            0);
        return Errno.None;
    }

    public Errno IomapBegin(in FuseRequestContext ctx, ulong nodeId, ulong attrIno, FuseIomapOp op, long pos, long count, out FuseIomapMapping read, out FuseIomapMapping write)
    {
        read = write = default;
        Errno e = IomapInode(nodeId, attrIno, out uint ino);
        if (e != Errno.None)
        {
            return e;
        }

        if ((op & (FuseIomapOp.FUSE_IOMAP_OP_ATOMIC | FuseIomapOp.FUSE_IOMAP_OP_DAX | FuseIomapOp.FUSE_IOMAP_OP_SWAPFILE)) != 0)
        {
            // Never offered: no FUSE_ATTR_ATOMIC, no DAX, no swap files on a FUSE mount.
            return Errno.EOPNOTSUPP;
        }

        // Read before the lookup: a change of the mapping after it keeps the answer out of the kernel's cache.
        long epoch = _mappingEpochs.Read(ino);

        // WRITE and WRITEBACK need blocks; ZERO and UNSHARE only act on what is there (a hole
        // is already zero, ext4 shares nothing), as iomap_zero_range / iomap_file_unshare skip holes.
        bool allocate = (op & (FuseIomapOp.FUSE_IOMAP_OP_WRITE | FuseIomapOp.FUSE_IOMAP_OP_WRITEBACK)) != 0;
        Ext4Errno r;
        Ext4Mapping m;
        if (allocate && (op & FuseIomapOp.FUSE_IOMAP_OP_OVERWRITE_ONLY) == 0)
        {
            if (IsReadOnly)
            {
                return Errno.EROFS;
            }

            r = _volume.MapFileRangeForWrite(ino, pos, count, zero: false, out m, ctx.Uid, ctx.Gid);
            if (RetryAfterCommit(r))
            {
                r = _volume.MapFileRangeForWrite(ino, pos, count, zero: false, out m, ctx.Uid, ctx.Gid);
            }
        }
        else
        {
            r = _volume.MapFileRange(ino, pos, count, out m);
            if (r == Ext4Errno.None && allocate && m.Kind != Ext4MappingKind.Mapped)
            {
                // OVERWRITE_ONLY (direct I/O probing for a pure overwrite): anything but written
                // blocks sends the kernel back to the allocating path (ext4_iomap_overwrite_begin).
                return Errno.EAGAIN;
            }
        }

        if (r != Ext4Errno.None)
        {
            return ToErrno(r);
        }

        read = ToIomap(m);
        write = FuseIomapMapping.PureOverwrite(read);
        UpsertAfterBegin(ino, op, m, read, epoch);
        return Errno.None;
    }

    /// <summary>
    /// IOMAP_END: nothing to undo. Blocks a short write left allocated stay (unwritten past EOF,
    /// as ext4 leaves them after a failed write), and the on-disk size is raised by IOEND once
    /// the data is on disk, never before.
    /// </summary>
    public Errno IomapEnd(in FuseRequestContext ctx, ulong nodeId, ulong attrIno, FuseIomapOp op, long pos, long count, long written, in FuseIomapMapping map) =>
        IomapInode(nodeId, attrIno, out _);

    public Errno IomapIoend(in FuseRequestContext ctx, ulong nodeId, ulong attrIno, FuseIomapIoendFlags flags, Errno error, long pos, long written, out long newSize)
    {
        newSize = 0;
        Errno e = IomapInode(nodeId, attrIno, out uint ino);
        if (e != Errno.None)
        {
            return e;
        }

        if (error != Errno.None)
        {
            // The I/O failed: nothing reached the disk to convert or to count in i_size.
            return error;
        }

        if ((flags & FuseIomapIoendFlags.FUSE_IOMAP_IOEND_SHARED) != 0)
        {
            BridgeLog.IomapSharedIoend(_logger, ino);
            return Errno.EIO;
        }

        if (IsReadOnly)
        {
            return Errno.EROFS;
        }

        bool unwritten = (flags & FuseIomapIoendFlags.FUSE_IOMAP_IOEND_UNWRITTEN) != 0;
        Ext4Errno r = _volume.CompleteFileWrite(ino, pos, written, unwritten, out newSize);
        if (RetryAfterCommit(r))
        {
            r = _volume.CompleteFileWrite(ino, pos, written, unwritten, out newSize);
        }

        if (unwritten)
        {
            // Unwritten blocks became written: a BEGIN that looked them up before must not cache
            // them as unwritten. No INVAL: the kernel drops the range itself after this reply (§2.7).
            _mappingEpochs.Change(ino, null);
        }

        return ToErrno(r);
    }

    /// <summary>FREEZE_FS (second stage of freeze_super): everything to disk, journal checkpointed.</summary>
    public Errno FreezeFs(in FuseRequestContext ctx, ulong unlinked)
    {
        if (!IsReadOnly)
        {
            _volume.Sync();
        }

        return Errno.None;
    }

    /// <summary>UNFREEZE_FS: nothing was suspended here (writes after a freeze come only after thaw).</summary>
    public Errno UnfreezeFs(in FuseRequestContext ctx) => Errno.None;

    public Errno ShutdownFs(in FuseRequestContext ctx, ulong flags)
    {
        BridgeLog.IomapShutdown(_logger);
        _volume.ShutDown();
        return Errno.None;
    }

    /// <summary>The inode behind an iomap request: ESTALE when the node is not an inode or the
    /// kernel's attr_ino is not its number.</summary>
    private static Errno IomapInode(ulong nodeId, ulong attrIno, out uint ino)
    {
        ino = NodeIds.ToInode(nodeId);
        return ino == 0 || attrIno != ino ? Errno.ESTALE : Errno.None;
    }

    private FuseIomapMapping ToIomap(in Ext4Mapping m)
    {
        // A new block is NEW (iomap zeroes around partial writes) and DIRTY (its allocation
        // must be committed before fdatasync returns), as ext4_set_iomap and fuse4fs flag it.
        // Blocks allocated by an earlier request stay DIRTY until that allocation is durable:
        // without the flag an O_DSYNC direct write over them may complete with a FUA write alone
        // (iomap_dio_bio_iter) and never ask for the commit that makes them part of the file.
        // ext4_set_iomap asks ext4_inode_datasync_dirty per inode; the volume-wide question
        // (Ext4Volume.HasUndurableChanges) is conservative: at worst an fsync more.
        FuseIomapFlags flags = m.New ? FuseIomapFlags.FUSE_IOMAP_F_NEW | FuseIomapFlags.FUSE_IOMAP_F_DIRTY : FuseIomapFlags.None;
        if (m.Kind is Ext4MappingKind.Mapped or Ext4MappingKind.Unwritten && _volume.HasUndurableChanges)
        {
            flags |= FuseIomapFlags.FUSE_IOMAP_F_DIRTY;
        }

        return m.Kind switch
        {
            Ext4MappingKind.Mapped => new FuseIomapMapping((ulong)m.Offset, (ulong)m.Length, (ulong)m.DeviceOffset, FuseIomapType.FUSE_IOMAP_TYPE_MAPPED, flags, _backingId),
            Ext4MappingKind.Unwritten => new FuseIomapMapping((ulong)m.Offset, (ulong)m.Length, (ulong)m.DeviceOffset, FuseIomapType.FUSE_IOMAP_TYPE_UNWRITTEN, flags, _backingId),
            Ext4MappingKind.Inline => FuseIomapMapping.WithoutDevice(FuseIomapType.FUSE_IOMAP_TYPE_INLINE, (ulong)m.Offset, (ulong)m.Length),
            _ => FuseIomapMapping.WithoutDevice(FuseIomapType.FUSE_IOMAP_TYPE_HOLE, (ulong)m.Offset, (ulong)m.Length),
        };
    }
}
