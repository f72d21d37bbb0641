using System.Runtime.InteropServices;
using Safemount.Fuse.Abi;
using Safemount.Shared.Interop;

namespace Safemount.Fuse;

/// <summary>One method per opcode: decode the op struct, call the file system, encode the reply.
/// Each sends exactly one reply on every path that returns normally.</summary>
public sealed partial class FuseSession
{
    private void HandleInit(in FuseInHeader header, ref FuseRequestReader reader, FuseReplyWriter reply)
    {
        FuseInitIn initIn = reader.ReadCompat<FuseInitIn>(FuseAbi.FUSE_COMPAT_INIT_IN_SIZE);
        if (this.initialized)
        {
            throw new FuseMalformedRequestException("second FUSE_INIT");
        }

        Errno rc = FuseInitNegotiator.Negotiate(initIn, this.options, !this.fs.IsReadOnly, out FuseInitOut initOut, out int replySize, out FuseInitResult result, iomapCapable: this.fs is IFuseIomapFileSystem);
        if (rc != Errno.None)
        {
            FuseLog.InitRefused(this.logger, initIn.Major);
            reply.SendError(rc);
            this.Stop("FUSE_INIT refused");
            return;
        }

        FuseLog.KernelVersion(this.logger, initIn.Major, initIn.Minor, initIn.MaxReadahead, initOut.Minor);
        FuseLog.OfferedFlags(this.logger, result.OfferedFlags, FuseInitNegotiator.FormatFlags(result.OfferedFlags));
        FuseLog.TakenFlags(this.logger, result.TakenFlags, FuseInitNegotiator.FormatFlags(result.TakenFlags));
        FuseLog.Limits(this.logger, result.MaxWrite, result.MaxPages);

        try
        {
            this.fs.Init(result);
        }
        catch (Exception e)
        {
            FuseLog.CallbackThrew(this.logger, e, nameof(IFuseFileSystem.Init));
            reply.SendError(this.Translate(e));
            this.Stop("file system Init failed");
            return;
        }

        // Publish before replying: the kernel may hand the next request to another reader as
        // soon as the reply is written.
        this.initResult = result;
        this.regularFileAttrFlags = result.Iomap ? FuseAbi.FUSE_ATTR_IOMAP | FuseAbi.FUSE_ATTR_EXCLUSIVE : 0;
        this.initialized = true;
        reply.SendTruncated(initOut, replySize);
        try
        {
            this.Initialized?.Invoke(result);
        }
        catch (Exception e)
        {
            FuseLog.CallbackThrew(this.logger, e, nameof(this.Initialized));
        }

        // Only now: the kernel waits for this reply inside the helper's mount (synchronous
        // INIT) and the helper for Initialized's READY; thread starts and their buffers (and a
        // GC those allocations can trigger, which stops this thread too) come after both. Until
        // then this worker alone reads, which is all the kernel sends before the mount returns.
        this.StartExtraWorkers();
    }

    private void HandleLookup(in FuseRequestContext ctx, ref FuseRequestReader reader, FuseReplyWriter reply)
    {
        ReadOnlySpan<byte> name = reader.ReadName();
        Errno rc = this.fs.Lookup(ctx, ctx.NodeId, name, out FuseEntry entry);
        if (rc != Errno.None)
        {
            reply.SendError(rc);
            return;
        }

        reply.Send(MakeEntryOut(entry, this.entryValid, this.attrValid, this.regularFileAttrFlags));
    }

    private void HandleForget(in FuseRequestContext ctx, ref FuseRequestReader reader)
    {
        FuseForgetIn forget = reader.Read<FuseForgetIn>();
        this.fs.Forget(ctx.NodeId, forget.Nlookup);
    }

    private void HandleBatchForget(ref FuseRequestReader reader)
    {
        FuseBatchForgetIn batch = reader.Read<FuseBatchForgetIn>();

        // Alleged count: checked against the bytes actually present before any item is applied.
        if ((ulong)batch.Count * FuseForgetOne.SizeOf > (ulong)reader.Remaining)
        {
            throw new FuseMalformedRequestException($"BATCH_FORGET count {batch.Count} exceeds the {reader.Remaining}-byte body");
        }

        for (uint i = 0; i < batch.Count; i++)
        {
            FuseForgetOne one = reader.Read<FuseForgetOne>();
            this.fs.Forget(one.Nodeid, one.Nlookup);
        }
    }

    private void HandleGetAttr(in FuseRequestContext ctx, ref FuseRequestReader reader, FuseReplyWriter reply)
    {
        // getattr_in.fh is not needed: attributes are per node here.
        reader.Read<FuseGetattrIn>();
        Errno rc = this.fs.GetAttr(ctx, ctx.NodeId, out FuseAttr attr);
        if (rc != Errno.None)
        {
            reply.SendError(rc);
            return;
        }

        var attrOut = new FuseAttrOut
        {
            AttrValid = this.attrValid.Seconds,
            AttrValidNsec = this.attrValid.Nanoseconds,
            Attr = MarkAttr(attr, this.regularFileAttrFlags),
        };
        reply.Send(attrOut);
    }

    private void HandleStatx(in FuseRequestContext ctx, ref FuseRequestReader reader, FuseReplyWriter reply)
    {
        reader.Read<FuseStatxIn>();
        Errno rc = this.fs.Statx(ctx, ctx.NodeId, out FuseAttr attr, out FuseStatxExtra extra);
        if (rc != Errno.None)
        {
            reply.SendError(rc);
            return;
        }

        reply.Send(MakeStatxOut(attr, extra, this.attrValid));
    }

    /// <summary>fuse_statx_out from a fuse_attr and the birth time. rdev is split with the
    /// kernel's new_decode_dev (major = bits 8..19, minor = bits 0..7 and 20..31).</summary>
    internal static FuseStatxOut MakeStatxOut(in FuseAttr attr, in FuseStatxExtra extra, (ulong Seconds, uint Nanoseconds) attrValid)
    {
        var o = new FuseStatxOut
        {
            AttrValid = attrValid.Seconds,
            AttrValidNsec = attrValid.Nanoseconds,
        };
        ref FuseStatx sx = ref o.Stat;
        sx.Mask = FuseAbi.STATX_BASIC_STATS | (extra.HasBtime ? FuseAbi.STATX_BTIME : 0);
        sx.Blksize = attr.Blksize;
        sx.Nlink = attr.Nlink;
        sx.Uid = attr.Uid;
        sx.Gid = attr.Gid;
        sx.Mode = (ushort)attr.Mode;
        sx.Ino = attr.Ino;
        sx.Size = attr.Size;
        sx.Blocks = attr.Blocks;
        sx.Atime = new FuseSxTime { TvSec = attr.Atime, TvNsec = attr.AtimeNsec };
        sx.Mtime = new FuseSxTime { TvSec = attr.Mtime, TvNsec = attr.MtimeNsec };
        sx.Ctime = new FuseSxTime { TvSec = attr.Ctime, TvNsec = attr.CtimeNsec };
        if (extra.HasBtime)
        {
            sx.Btime = new FuseSxTime { TvSec = extra.Btime, TvNsec = extra.BtimeNsec };
        }

        sx.RdevMajor = (attr.Rdev & 0xFFF00) >> 8;
        sx.RdevMinor = (attr.Rdev & 0xFF) | ((attr.Rdev >> 12) & 0xFFF00);
        return o;
    }

    private void HandleReadLink(in FuseRequestContext ctx, FuseReplyWriter reply)
    {
        Errno rc = this.fs.ReadLink(ctx, ctx.NodeId, out byte[] target);
        if (rc != Errno.None)
        {
            reply.SendError(rc);
            return;
        }

        if (target.Length > reply.Payload.Length)
        {
            reply.SendError(Errno.ENAMETOOLONG);
            return;
        }

        target.CopyTo(reply.Payload);
        reply.Send(target.Length);
    }

    private void HandleOpen(in FuseRequestContext ctx, ref FuseRequestReader reader, FuseReplyWriter reply, bool directory)
    {
        FuseOpenIn openIn = reader.Read<FuseOpenIn>();
        ulong fh;
        uint openFlags;
        Errno rc = directory
            ? this.fs.OpenDir(ctx, ctx.NodeId, openIn.Flags, out fh, out openFlags)
            : this.fs.Open(ctx with { KillSuidGid = (openIn.OpenFlags & FuseAbi.FUSE_OPEN_KILL_SUIDGID) != 0 }, ctx.NodeId, openIn.Flags, out fh, out openFlags);
        if (rc != Errno.None)
        {
            reply.SendError(rc);
            return;
        }

        reply.Send(new FuseOpenOut { Fh = fh, OpenFlags = openFlags });
    }

    private void HandleRead(in FuseRequestContext ctx, ref FuseRequestReader reader, FuseReplyWriter reply)
    {
        FuseReadIn readIn = reader.Read<FuseReadIn>();

        // Alleged size and offset: the kernel never asks for more than max_pages pages, nor
        // for an offset past the largest loff_t.
        if (readIn.Size > (uint)reply.Payload.Length)
        {
            throw new FuseMalformedRequestException($"READ size {readIn.Size} exceeds the {reply.Payload.Length}-byte reply buffer");
        }

        if (readIn.Offset > long.MaxValue)
        {
            throw new FuseMalformedRequestException($"READ offset {readIn.Offset} exceeds loff_t");
        }

        Span<byte> destination = reply.Payload[..(int)readIn.Size];
        Errno rc = this.fs.Read(ctx, ctx.NodeId, readIn.Fh, (long)readIn.Offset, destination, out int bytesRead);
        if (rc != Errno.None)
        {
            reply.SendError(rc);
            return;
        }

        if ((uint)bytesRead > readIn.Size)
        {
            FuseLog.InvalidResult(this.logger, FuseOpcode.FUSE_READ, ctx.Unique, $"bytesRead {bytesRead} for size {readIn.Size}");
            reply.SendError(Errno.EIO);
            return;
        }

        reply.Send(bytesRead);
    }

    private void HandleReadDir(in FuseRequestContext ctx, ref FuseRequestReader reader, FuseReplyWriter reply, bool plus)
    {
        FuseReadIn readIn = reader.Read<FuseReadIn>();

        // A directory reply may be shorter than asked; clamp to the buffer instead of failing.
        int size = (int)Math.Min(readIn.Size, (uint)reply.Payload.Length);
        var writer = new FuseDirectoryWriter(reply.Payload[..size], plus, this.entryValid, this.attrValid, this.regularFileAttrFlags);
        Errno rc = this.fs.ReadDir(ctx, ctx.NodeId, readIn.Fh, readIn.Offset, plus, ref writer);

        // Records already accepted are sent even on error: with READDIRPLUS the file system has
        // counted their lookups, and the kernel must see them to forget them later.
        if (rc != Errno.None && writer.Length == 0)
        {
            reply.SendError(rc);
            return;
        }

        reply.Send(writer.Length);
    }

    private void HandleRelease(in FuseRequestContext ctx, ref FuseRequestReader reader, FuseReplyWriter reply, bool directory)
    {
        FuseReleaseIn releaseIn = reader.Read<FuseReleaseIn>();
        if (directory)
        {
            this.fs.ReleaseDir(ctx.NodeId, releaseIn.Fh);
        }
        else
        {
            this.fs.Release(ctx.NodeId, releaseIn.Fh);
        }

        reply.SendEmpty();
    }

    private void HandleStatFs(in FuseRequestContext ctx, FuseReplyWriter reply)
    {
        Errno rc = this.fs.StatFs(ctx, ctx.NodeId, out FuseStatFs st);
        if (rc != Errno.None)
        {
            reply.SendError(rc);
            return;
        }

        reply.Send(new FuseKstatfs
        {
            Blocks = st.Blocks,
            Bfree = st.Bfree,
            Bavail = st.Bavail,
            Files = st.Files,
            Ffree = st.Ffree,
            Bsize = st.Bsize,
            Namelen = st.NameLen,
            Frsize = st.Frsize,
        });
    }

    /// <summary>GETXATTR and LISTXATTR: size 0 asks for the length (fuse_getxattr_out);
    /// otherwise the data, or ERANGE when it is larger than size.</summary>
    private void HandleXattr(in FuseRequestContext ctx, ref FuseRequestReader reader, FuseReplyWriter reply, bool list)
    {
        FuseGetxattrIn xin = reader.Read<FuseGetxattrIn>();
        byte[]? data;
        Errno rc;
        if (list)
        {
            rc = this.fs.ListXattr(ctx, ctx.NodeId, out byte[] names);
            data = names;
        }
        else
        {
            ReadOnlySpan<byte> name = reader.ReadName();
            rc = this.fs.GetXattr(ctx, ctx.NodeId, name, out data);
        }

        if (rc != Errno.None)
        {
            reply.SendError(rc);
            return;
        }

        if (data is null)
        {
            reply.SendError(Errno.ENODATA);
            return;
        }

        if (xin.Size == 0)
        {
            reply.Send(new FuseGetxattrOut { Size = (uint)data.Length });
            return;
        }

        if ((uint)data.Length > xin.Size)
        {
            reply.SendError(Errno.ERANGE);
            return;
        }

        if (data.Length > reply.Payload.Length)
        {
            reply.SendError(Errno.E2BIG);
            return;
        }

        data.CopyTo(reply.Payload);
        reply.Send(data.Length);
    }

    /// <summary>
    /// IOCTL, restricted form only (fs/fuse/ioctl.c fuse_do_ioctl, fuse_priv_ioctl): the input
    /// is in_size bytes after fuse_ioctl_in, and the reply is fuse_ioctl_out plus at most
    /// out_size bytes. UNRESTRICTED (CUSE) requests would need RETRY iovecs and get ENOTTY.
    /// </summary>
    private void HandleIoctl(in FuseRequestContext ctx, ref FuseRequestReader reader, FuseReplyWriter reply)
    {
        FuseIoctlIn ioIn = reader.Read<FuseIoctlIn>();
        ReadOnlySpan<byte> input = reader.ReadBytes(ioIn.InSize);
        var flags = (FuseIoctlFlags)ioIn.Flags;
        if ((flags & FuseIoctlFlags.FUSE_IOCTL_UNRESTRICTED) != 0)
        {
            reply.SendError(Errno.ENOTTY);
            return;
        }

        Span<byte> payload = reply.Payload;
        int room = payload.Length - FuseIoctlOut.SizeOf;
        Span<byte> output = payload.Slice(FuseIoctlOut.SizeOf, (int)Math.Min(ioIn.OutSize, (uint)room));
        Errno rc = this.fs.Ioctl(ctx, ctx.NodeId, ioIn.Fh, ioIn.Cmd, (flags & FuseIoctlFlags.FUSE_IOCTL_DIR) != 0, input, output, out int written);
        if (rc != Errno.None)
        {
            reply.SendError(rc);
            return;
        }

        if ((uint)written > (uint)output.Length)
        {
            FuseLog.InvalidResult(this.logger, FuseOpcode.FUSE_IOCTL, ctx.Unique, $"{written} output bytes for out_size {ioIn.OutSize}");
            reply.SendError(Errno.EIO);
            return;
        }

        MemoryMarshal.Write(payload, new FuseIoctlOut());
        reply.Send(FuseIoctlOut.SizeOf + written);
    }

    private void HandleAccess(in FuseRequestContext ctx, ref FuseRequestReader reader, FuseReplyWriter reply)
    {
        FuseAccessIn accessIn = reader.Read<FuseAccessIn>();
        reply.SendError(this.fs.Access(ctx, ctx.NodeId, accessIn.Mask));
    }

    private void HandleFlush(in FuseRequestContext ctx, ref FuseRequestReader reader, FuseReplyWriter reply)
    {
        FuseFlushIn flushIn = reader.Read<FuseFlushIn>();
        reply.SendError(this.fs.Flush(ctx, ctx.NodeId, flushIn.Fh));
    }

    private void HandleFsync(in FuseRequestContext ctx, ref FuseRequestReader reader, FuseReplyWriter reply, bool directory)
    {
        FuseFsyncIn fsyncIn = reader.Read<FuseFsyncIn>();
        bool dataOnly = (fsyncIn.FsyncFlags & FuseAbi.FUSE_FSYNC_FDATASYNC) != 0;
        reply.SendError(this.fs.Fsync(ctx, ctx.NodeId, fsyncIn.Fh, dataOnly, directory));
    }

    private void HandleSyncFs(in FuseRequestContext ctx, ref FuseRequestReader reader, FuseReplyWriter reply)
    {
        reader.Read<FuseSyncfsIn>();
        reply.SendError(this.fs.SyncFs(ctx));
    }

    private void HandleDestroy(FuseReplyWriter reply)
    {
        try
        {
            this.fs.Destroy();
        }
        catch (Exception e)
        {
            FuseLog.CallbackThrew(this.logger, e, nameof(IFuseFileSystem.Destroy));
        }

        reply.SendEmpty();
        this.Stop("FUSE_DESTROY");
    }

    /// <summary>fuse_entry_out of LOOKUP and of each READDIRPLUS record;
    /// <paramref name="regularFileAttrFlags"/> as for <see cref="MarkAttr"/>.</summary>
    internal static FuseEntryOut MakeEntryOut(in FuseEntry entry, (ulong Seconds, uint Nanoseconds) entryValid, (ulong Seconds, uint Nanoseconds) attrValid, uint regularFileAttrFlags = 0) => new()
    {
        Nodeid = entry.NodeId,
        Generation = entry.Generation,
        EntryValid = entryValid.Seconds,
        EntryValidNsec = entryValid.Nanoseconds,
        AttrValid = attrValid.Seconds,
        AttrValidNsec = attrValid.Nanoseconds,
        Attr = MarkAttr(entry.Attr, regularFileAttrFlags),
    };

    /// <summary>ORs <paramref name="regularFileAttrFlags"/> (FUSE_ATTR_IOMAP | FUSE_ATTR_EXCLUSIVE
    /// once FUSE_IOMAP is negotiated, else 0) into the attr of a regular file (S_IFREG): only
    /// regular files take the iomap I/O path (FUSE-PROTOCOL.md §2.2 step 7).</summary>
    internal static FuseAttr MarkAttr(FuseAttr attr, uint regularFileAttrFlags)
    {
        const uint S_IFMT = 0xF000;
        const uint S_IFREG = 0x8000;
        if ((attr.Mode & S_IFMT) == S_IFREG)
        {
            attr.Flags |= regularFileAttrFlags;
        }

        return attr;
    }
}
