using Safemount.Fuse.Abi;
using Safemount.Shared.Interop;

namespace Safemount.Fuse;

/// <summary>Request validation, routing and the exactly-one-reply guarantee.</summary>
public sealed partial class FuseSession
{
    /// <summary>
    /// Handles one request as read() returned it. Guarantees: a request shorter than
    /// fuse_in_header is dropped (its unique cannot be trusted); FORGET, BATCH_FORGET and
    /// INTERRUPT are never answered; every other request gets exactly one reply — malformed
    /// input EINVAL, an exception fs.TranslateException's errno, a handler that forgot to reply EIO.
    /// Nothing escapes except a failure of the device itself.
    /// </summary>
    internal void ProcessRequest(ReadOnlySpan<byte> request, FuseReplyWriter reply)
    {
        if (!FuseRequestReader.TryReadHeader(request, out FuseInHeader header))
        {
            FuseLog.ShortRequestDropped(this.logger, request.Length);
            return;
        }

        var opcode = (FuseOpcode)header.Opcode;
        bool answered = IsAnswered(opcode);
        reply.Begin(header.Unique);
        try
        {
            ReadOnlySpan<byte> body = FuseRequestReader.GetBody(request, header);
            this.Dispatch(opcode, header, body, reply);
        }
        catch (FuseMalformedRequestException e)
        {
            FuseLog.MalformedRequest(this.logger, opcode, header.Unique, e.Message);
            if (answered && !reply.Replied)
            {
                reply.SendError(Errno.EINVAL);
            }
        }
        catch (Exception e)
        {
            // After a reply has gone out an exception changes nothing on the wire; log it only.
            bool mustReply = answered && !reply.Replied;
            Errno error = mustReply ? this.Translate(e) : Errno.None;
            FuseLog.HandlerThrew(this.logger, e, opcode, header.Unique, error);
            if (mustReply)
            {
                reply.SendError(error);
            }
        }
        finally
        {
            if (answered && !reply.Replied)
            {
                FuseLog.Unanswered(this.logger, opcode, header.Unique);
                reply.SendError(Errno.EIO);
            }
        }
    }

    /// <summary>False for the opcodes the kernel expects no reply to.</summary>
    private static bool IsAnswered(FuseOpcode opcode) =>
        opcode is not (FuseOpcode.FUSE_FORGET or FuseOpcode.FUSE_BATCH_FORGET or FuseOpcode.FUSE_INTERRUPT);

    /// <summary>fs.TranslateException, itself guarded: a throwing or "success" translation is EIO.</summary>
    private Errno Translate(Exception e)
    {
        try
        {
            Errno error = this.fs.TranslateException(e);
            return error == Errno.None ? Errno.EIO : error;
        }
        catch (Exception inner)
        {
            FuseLog.CallbackThrew(this.logger, inner, nameof(IFuseFileSystem.TranslateException));
            return Errno.EIO;
        }
    }

    private void Dispatch(FuseOpcode opcode, in FuseInHeader header, ReadOnlySpan<byte> body, FuseReplyWriter reply)
    {
        var reader = new FuseRequestReader(body);
        if (opcode == FuseOpcode.FUSE_INIT)
        {
            this.HandleInit(header, ref reader, reply);
            return;
        }

        if (!this.initialized || this.stopping)
        {
            FuseLog.BeforeInit(this.logger, opcode, header.Unique);
            if (IsAnswered(opcode))
            {
                reply.SendError(Errno.EIO);
            }

            return;
        }

        var ctx = new FuseRequestContext(header.Unique, header.Nodeid, header.Uid, header.Gid, header.Pid);
        switch (opcode)
        {
            case FuseOpcode.FUSE_LOOKUP: this.HandleLookup(ctx, ref reader, reply); break;
            case FuseOpcode.FUSE_FORGET: this.HandleForget(ctx, ref reader); break;
            case FuseOpcode.FUSE_BATCH_FORGET: this.HandleBatchForget(ref reader); break;
            case FuseOpcode.FUSE_GETATTR: this.HandleGetAttr(ctx, ref reader, reply); break;
            case FuseOpcode.FUSE_STATX: this.HandleStatx(ctx, ref reader, reply); break;
            case FuseOpcode.FUSE_READLINK: this.HandleReadLink(ctx, reply); break;
            case FuseOpcode.FUSE_OPEN: this.HandleOpen(ctx, ref reader, reply, directory: false); break;
            case FuseOpcode.FUSE_OPENDIR: this.HandleOpen(ctx, ref reader, reply, directory: true); break;
            case FuseOpcode.FUSE_READ: this.HandleRead(ctx, ref reader, reply); break;
            case FuseOpcode.FUSE_READDIR: this.HandleReadDir(ctx, ref reader, reply, plus: false); break;
            case FuseOpcode.FUSE_READDIRPLUS: this.HandleReadDir(ctx, ref reader, reply, plus: true); break;
            case FuseOpcode.FUSE_RELEASE: this.HandleRelease(ctx, ref reader, reply, directory: false); break;
            case FuseOpcode.FUSE_RELEASEDIR: this.HandleRelease(ctx, ref reader, reply, directory: true); break;
            case FuseOpcode.FUSE_STATFS: this.HandleStatFs(ctx, reply); break;
            case FuseOpcode.FUSE_GETXATTR: this.HandleXattr(ctx, ref reader, reply, list: false); break;
            case FuseOpcode.FUSE_LISTXATTR: this.HandleXattr(ctx, ref reader, reply, list: true); break;
            case FuseOpcode.FUSE_ACCESS: this.HandleAccess(ctx, ref reader, reply); break;
            case FuseOpcode.FUSE_IOCTL: this.HandleIoctl(ctx, ref reader, reply); break;
            case FuseOpcode.FUSE_FLUSH: this.HandleFlush(ctx, ref reader, reply); break;
            case FuseOpcode.FUSE_FSYNC: this.HandleFsync(ctx, ref reader, reply, directory: false); break;
            case FuseOpcode.FUSE_FSYNCDIR: this.HandleFsync(ctx, ref reader, reply, directory: true); break;
            case FuseOpcode.FUSE_SYNCFS: this.HandleSyncFs(ctx, ref reader, reply); break;
            case FuseOpcode.FUSE_INTERRUPT:
                // Handlers never block, so the interrupted request is answered normally.
                reader.Read<FuseInterruptIn>();
                break;
            case FuseOpcode.FUSE_DESTROY: this.HandleDestroy(reply); break;
            case FuseOpcode.FUSE_LSEEK: this.HandleLseek(ctx, ref reader, reply); break;
            default:
                if (IsIomapOpcode(opcode))
                {
                    this.DispatchIomap(opcode, ctx, ref reader, reply);
                    break;
                }

                if (IsWriteOpcode(opcode))
                {
                    if (this.fs.IsReadOnly)
                    {
                        reply.SendError(Errno.EROFS);
                    }
                    else
                    {
                        this.DispatchWrite(opcode, ctx, ref reader, reply);
                    }

                    break;
                }

                FuseLog.Unsupported(this.logger, opcode, header.Unique);
                reply.SendError(Errno.ENOSYS);
                break;
        }
    }

    /// <summary>The opcodes that change the file system: answered EROFS, without decoding and
    /// without calling the file system, while it is read-only. FSYNC, FSYNCDIR, FLUSH, SYNCFS
    /// and LSEEK change nothing and are served either way; IOCTL goes to the file system, which
    /// refuses its set commands itself.</summary>
    internal static bool IsWriteOpcode(FuseOpcode opcode) => opcode is
        FuseOpcode.FUSE_SETATTR or FuseOpcode.FUSE_SYMLINK or FuseOpcode.FUSE_MKNOD or FuseOpcode.FUSE_MKDIR
        or FuseOpcode.FUSE_UNLINK or FuseOpcode.FUSE_RMDIR or FuseOpcode.FUSE_RENAME or FuseOpcode.FUSE_LINK
        or FuseOpcode.FUSE_WRITE or FuseOpcode.FUSE_SETXATTR or FuseOpcode.FUSE_REMOVEXATTR or FuseOpcode.FUSE_CREATE
        or FuseOpcode.FUSE_FALLOCATE or FuseOpcode.FUSE_RENAME2 or FuseOpcode.FUSE_COPY_FILE_RANGE
        or FuseOpcode.FUSE_COPY_FILE_RANGE_64 or FuseOpcode.FUSE_TMPFILE;

    private void DispatchWrite(FuseOpcode opcode, in FuseRequestContext ctx, ref FuseRequestReader reader, FuseReplyWriter reply)
    {
        switch (opcode)
        {
            case FuseOpcode.FUSE_SETATTR: this.HandleSetAttr(ctx, ref reader, reply); break;
            case FuseOpcode.FUSE_SYMLINK: this.HandleSymlink(ctx, ref reader, reply); break;
            case FuseOpcode.FUSE_MKNOD: this.HandleMkNod(ctx, ref reader, reply); break;
            case FuseOpcode.FUSE_MKDIR: this.HandleMkDir(ctx, ref reader, reply); break;
            case FuseOpcode.FUSE_UNLINK: this.HandleUnlink(ctx, ref reader, reply, directory: false); break;
            case FuseOpcode.FUSE_RMDIR: this.HandleUnlink(ctx, ref reader, reply, directory: true); break;
            case FuseOpcode.FUSE_RENAME: this.HandleRename(ctx, ref reader, reply, rename2: false); break;
            case FuseOpcode.FUSE_RENAME2: this.HandleRename(ctx, ref reader, reply, rename2: true); break;
            case FuseOpcode.FUSE_LINK: this.HandleLink(ctx, ref reader, reply); break;
            case FuseOpcode.FUSE_WRITE: this.HandleWrite(ctx, ref reader, reply); break;
            case FuseOpcode.FUSE_SETXATTR: this.HandleSetXattr(ctx, ref reader, reply); break;
            case FuseOpcode.FUSE_REMOVEXATTR: this.HandleRemoveXattr(ctx, ref reader, reply); break;
            case FuseOpcode.FUSE_CREATE: this.HandleCreate(ctx, ref reader, reply, tmpfile: false); break;
            case FuseOpcode.FUSE_TMPFILE: this.HandleCreate(ctx, ref reader, reply, tmpfile: true); break;
            case FuseOpcode.FUSE_FALLOCATE: this.HandleFallocate(ctx, ref reader, reply); break;
            case FuseOpcode.FUSE_COPY_FILE_RANGE: this.HandleCopyFileRange(ctx, ref reader, reply, wide: false); break;
            case FuseOpcode.FUSE_COPY_FILE_RANGE_64: this.HandleCopyFileRange(ctx, ref reader, reply, wide: true); break;
            default: throw new InvalidOperationException($"{opcode} is not a write opcode");
        }
    }
}
