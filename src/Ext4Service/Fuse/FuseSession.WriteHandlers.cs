using Safemount.Fuse.Abi;
using Safemount.Shared.Interop;

namespace Safemount.Fuse;

/// <summary>
/// Handlers of the write opcodes (and LSEEK). Each decodes its op struct and names, checks every
/// kernel-supplied size and offset against the body and against loff_t before use
/// (<see cref="FuseMalformedRequestException"/> otherwise, answered EINVAL), calls the file
/// system and sends exactly one reply. The read-only gate is in Dispatch, before any of these.
/// </summary>
public sealed partial class FuseSession
{
    /// <summary>RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT: what renameat2 passes down.</summary>
    private const FuseRenameFlags KnownRenameFlags = FuseRenameFlags.RENAME_NOREPLACE | FuseRenameFlags.RENAME_EXCHANGE | FuseRenameFlags.RENAME_WHITEOUT;

    /// <summary>Largest valid nanosecond field of a timestamp.</summary>
    private const uint MaxNsec = 999_999_999;

    private void HandleCreate(in FuseRequestContext ctx, ref FuseRequestReader reader, FuseReplyWriter reply, bool tmpfile)
    {
        FuseCreateIn createIn = reader.Read<FuseCreateIn>();

        // TMPFILE carries the name of the unhashed dentry vfs_tmpfile allocates ("/"); it is
        // checked like any name but not passed on.
        ReadOnlySpan<byte> name = reader.ReadName();
        FuseRequestContext c = ctx with { Umask = createIn.Umask };
        FuseEntry entry;
        ulong fh;
        uint openFlags;
        Errno rc = tmpfile
            ? this.fs.TmpFile(c, ctx.NodeId, createIn.Mode, createIn.Flags, out entry, out fh, out openFlags)
            : this.fs.Create(c, ctx.NodeId, name, createIn.Mode, createIn.Flags, out entry, out fh, out openFlags);
        if (rc != Errno.None)
        {
            reply.SendError(rc);
            return;
        }

        if (!this.CheckNewEntry(ctx, tmpfile ? FuseOpcode.FUSE_TMPFILE : FuseOpcode.FUSE_CREATE, entry, reply))
        {
            return;
        }

        reply.Send(MakeEntryOut(entry, this.entryValid, this.attrValid, this.regularFileAttrFlags), new FuseOpenOut { Fh = fh, OpenFlags = openFlags });
    }

    private void HandleMkNod(in FuseRequestContext ctx, ref FuseRequestReader reader, FuseReplyWriter reply)
    {
        FuseMknodIn mknodIn = reader.Read<FuseMknodIn>();
        ReadOnlySpan<byte> name = reader.ReadName();
        Errno rc = this.fs.MkNod(ctx with { Umask = mknodIn.Umask }, ctx.NodeId, name, mknodIn.Mode, mknodIn.Rdev, out FuseEntry entry);
        this.SendEntry(ctx, FuseOpcode.FUSE_MKNOD, rc, entry, reply);
    }

    private void HandleMkDir(in FuseRequestContext ctx, ref FuseRequestReader reader, FuseReplyWriter reply)
    {
        FuseMkdirIn mkdirIn = reader.Read<FuseMkdirIn>();
        ReadOnlySpan<byte> name = reader.ReadName();
        Errno rc = this.fs.MkDir(ctx with { Umask = mkdirIn.Umask }, ctx.NodeId, name, mkdirIn.Mode, out FuseEntry entry);
        this.SendEntry(ctx, FuseOpcode.FUSE_MKDIR, rc, entry, reply);
    }

    /// <summary>SYMLINK: the entry name, then the target, each NUL-terminated (fs/fuse/dir.c fuse_symlink).</summary>
    private void HandleSymlink(in FuseRequestContext ctx, ref FuseRequestReader reader, FuseReplyWriter reply)
    {
        ReadOnlySpan<byte> name = reader.ReadName();
        ReadOnlySpan<byte> target = reader.ReadName();
        Errno rc = this.fs.Symlink(ctx, ctx.NodeId, name, target, out FuseEntry entry);
        this.SendEntry(ctx, FuseOpcode.FUSE_SYMLINK, rc, entry, reply);
    }

    /// <summary>LINK: the header's nodeid is the new parent, link_in.oldnodeid the inode.</summary>
    private void HandleLink(in FuseRequestContext ctx, ref FuseRequestReader reader, FuseReplyWriter reply)
    {
        FuseLinkIn linkIn = reader.Read<FuseLinkIn>();
        ReadOnlySpan<byte> name = reader.ReadName();
        Errno rc = this.fs.Link(ctx, linkIn.Oldnodeid, ctx.NodeId, name, out FuseEntry entry);
        this.SendEntry(ctx, FuseOpcode.FUSE_LINK, rc, entry, reply);
    }

    private void HandleUnlink(in FuseRequestContext ctx, ref FuseRequestReader reader, FuseReplyWriter reply, bool directory)
    {
        ReadOnlySpan<byte> name = reader.ReadName();
        reply.SendError(directory ? this.fs.RmDir(ctx, ctx.NodeId, name) : this.fs.Unlink(ctx, ctx.NodeId, name));
    }

    /// <summary>RENAME (fuse_rename_in) and RENAME2 (fuse_rename2_in); then the old and the new
    /// name. Flags renameat2 itself refuses (unknown bits; EXCHANGE with NOREPLACE or WHITEOUT,
    /// fs/namei.c do_renameat2) cannot come from the kernel and are malformed.</summary>
    private void HandleRename(in FuseRequestContext ctx, ref FuseRequestReader reader, FuseReplyWriter reply, bool rename2)
    {
        ulong newDir;
        var flags = FuseRenameFlags.None;
        if (rename2)
        {
            FuseRename2In in2 = reader.Read<FuseRename2In>();
            newDir = in2.Newdir;
            flags = (FuseRenameFlags)in2.Flags;
            if ((flags & ~KnownRenameFlags) != 0)
            {
                throw new FuseMalformedRequestException($"RENAME2 flags 0x{in2.Flags:X} has unknown bits");
            }

            if ((flags & FuseRenameFlags.RENAME_EXCHANGE) != 0 && (flags & (FuseRenameFlags.RENAME_NOREPLACE | FuseRenameFlags.RENAME_WHITEOUT)) != 0)
            {
                throw new FuseMalformedRequestException($"RENAME2 flags 0x{in2.Flags:X} combine EXCHANGE with NOREPLACE or WHITEOUT");
            }
        }
        else
        {
            newDir = reader.Read<FuseRenameIn>().Newdir;
        }

        ReadOnlySpan<byte> oldName = reader.ReadName();
        ReadOnlySpan<byte> newName = reader.ReadName();
        reply.SendError(this.fs.Rename(ctx, ctx.NodeId, oldName, newDir, newName, flags));
    }

    /// <summary>SETATTR: fuse_setattr_in; the reply is fuse_attr_out like GETATTR's. A size past
    /// loff_t or a nanosecond field past 999999999 in a field that valid names is malformed.</summary>
    private void HandleSetAttr(in FuseRequestContext ctx, ref FuseRequestReader reader, FuseReplyWriter reply)
    {
        FuseSetattrIn s = reader.Read<FuseSetattrIn>();
        var valid = (FuseSetAttrValid)s.Valid;
        if ((valid & FuseSetAttrValid.FATTR_SIZE) != 0 && s.Size > long.MaxValue)
        {
            throw new FuseMalformedRequestException($"SETATTR size {s.Size} exceeds loff_t");
        }

        if (((valid & FuseSetAttrValid.FATTR_ATIME) != 0 && s.Atimensec > MaxNsec)
            || ((valid & FuseSetAttrValid.FATTR_MTIME) != 0 && s.Mtimensec > MaxNsec)
            || ((valid & FuseSetAttrValid.FATTR_CTIME) != 0 && s.Ctimensec > MaxNsec))
        {
            throw new FuseMalformedRequestException("SETATTR nanoseconds out of range");
        }

        var changes = new FuseSetAttr(
            valid, s.Fh, s.Size, s.LockOwner,
            (long)s.Atime, s.Atimensec, (long)s.Mtime, s.Mtimensec, (long)s.Ctime, s.Ctimensec,
            s.Mode, s.Uid, s.Gid);
        Errno rc = this.fs.SetAttr(ctx, ctx.NodeId, changes, out FuseAttr attr);
        if (rc != Errno.None)
        {
            reply.SendError(rc);
            return;
        }

        reply.Send(new FuseAttrOut
        {
            AttrValid = this.attrValid.Seconds,
            AttrValidNsec = this.attrValid.Nanoseconds,
            Attr = MarkAttr(attr, this.regularFileAttrFlags),
        });
    }

    /// <summary>WRITE: fuse_write_in, then exactly size data bytes; reply fuse_write_out.</summary>
    private void HandleWrite(in FuseRequestContext ctx, ref FuseRequestReader reader, FuseReplyWriter reply)
    {
        FuseWriteIn w = reader.Read<FuseWriteIn>();
        ReadOnlySpan<byte> data = reader.ReadBytes(w.Size);
        CheckRange("WRITE", w.Offset, w.Size);
        Errno rc = this.fs.Write(ctx, ctx.NodeId, w.Fh, (long)w.Offset, data, (FuseWriteFlags)w.WriteFlags, w.Flags, out uint written);
        if (rc != Errno.None)
        {
            reply.SendError(rc);
            return;
        }

        if (written > w.Size)
        {
            FuseLog.InvalidResult(this.logger, FuseOpcode.FUSE_WRITE, ctx.Unique, $"{written} bytes written of {w.Size}");
            reply.SendError(Errno.EIO);
            return;
        }

        reply.Send(new FuseWriteOut { Size = written });
    }

    private void HandleFallocate(in FuseRequestContext ctx, ref FuseRequestReader reader, FuseReplyWriter reply)
    {
        FuseFallocateIn f = reader.Read<FuseFallocateIn>();
        CheckRange("FALLOCATE", f.Offset, f.Length);
        reply.SendError(this.fs.Fallocate(ctx, ctx.NodeId, f.Fh, (long)f.Offset, (long)f.Length, f.Mode));
    }

    /// <summary>SETXATTR: fuse_setxattr_in is 16 bytes when FUSE_SETXATTR_EXT was negotiated and
    /// 8 otherwise (fs/fuse/xattr.c fuse_setxattr); then the name, then exactly size value bytes,
    /// size at most XATTR_SIZE_MAX.</summary>
    private void HandleSetXattr(in FuseRequestContext ctx, ref FuseRequestReader reader, FuseReplyWriter reply)
    {
        bool ext = (this.initResult.TakenFlags & (ulong)FuseInitFlags.FUSE_SETXATTR_EXT) != 0;
        FuseSetxattrIn x = ext ? reader.Read<FuseSetxattrIn>() : reader.ReadPrefix<FuseSetxattrIn>(FuseAbi.FUSE_COMPAT_SETXATTR_IN_SIZE);
        if (x.Size > FuseAbi.XATTR_SIZE_MAX)
        {
            throw new FuseMalformedRequestException($"SETXATTR size {x.Size} exceeds XATTR_SIZE_MAX");
        }

        ReadOnlySpan<byte> name = reader.ReadName();
        ReadOnlySpan<byte> value = reader.ReadBytes(x.Size);
        reply.SendError(this.fs.SetXattr(ctx, ctx.NodeId, name, value, x.Flags, x.SetxattrFlags));
    }

    private void HandleRemoveXattr(in FuseRequestContext ctx, ref FuseRequestReader reader, FuseReplyWriter reply)
    {
        ReadOnlySpan<byte> name = reader.ReadName();
        reply.SendError(this.fs.RemoveXattr(ctx, ctx.NodeId, name));
    }

    private void HandleLseek(in FuseRequestContext ctx, ref FuseRequestReader reader, FuseReplyWriter reply)
    {
        FuseLseekIn l = reader.Read<FuseLseekIn>();
        CheckRange("LSEEK", l.Offset, 0);
        Errno rc = this.fs.Lseek(ctx, ctx.NodeId, l.Fh, (long)l.Offset, l.Whence, out long result);
        if (rc != Errno.None)
        {
            reply.SendError(rc);
            return;
        }

        if (result < 0)
        {
            FuseLog.InvalidResult(this.logger, FuseOpcode.FUSE_LSEEK, ctx.Unique, $"offset {result}");
            reply.SendError(Errno.EIO);
            return;
        }

        reply.Send(new FuseLseekOut { Offset = (ulong)result });
    }

    /// <summary>COPY_FILE_RANGE answers fuse_write_out (a 32-bit count); COPY_FILE_RANGE_64
    /// (7.45) answers fuse_copy_file_range_out. The header's nodeid is the source.</summary>
    private void HandleCopyFileRange(in FuseRequestContext ctx, ref FuseRequestReader reader, FuseReplyWriter reply, bool wide)
    {
        FuseCopyFileRangeIn c = reader.Read<FuseCopyFileRangeIn>();
        CheckRange("COPY_FILE_RANGE source", c.OffIn, c.Len);
        CheckRange("COPY_FILE_RANGE destination", c.OffOut, c.Len);
        Errno rc = this.fs.CopyFileRange(ctx, ctx.NodeId, c.FhIn, (long)c.OffIn, c.NodeidOut, c.FhOut, (long)c.OffOut, c.Len, c.Flags, out ulong copied);
        if (rc != Errno.None)
        {
            reply.SendError(rc);
            return;
        }

        FuseOpcode opcode = wide ? FuseOpcode.FUSE_COPY_FILE_RANGE_64 : FuseOpcode.FUSE_COPY_FILE_RANGE;
        if (copied > c.Len || (!wide && copied > uint.MaxValue))
        {
            FuseLog.InvalidResult(this.logger, opcode, ctx.Unique, $"{copied} bytes copied of {c.Len}");
            reply.SendError(Errno.EIO);
            return;
        }

        if (wide)
        {
            reply.Send(new FuseCopyFileRangeOut { BytesCopied = copied });
        }
        else
        {
            reply.Send(new FuseWriteOut { Size = (uint)copied });
        }
    }

    /// <summary>offset and offset + length must both fit a loff_t (the kernel checks its own
    /// requests the same way, fs/read_write.c generic_copy_file_checks and vfs_fallocate).</summary>
    private static void CheckRange(string what, ulong offset, ulong length)
    {
        if (offset > long.MaxValue || length > long.MaxValue - offset)
        {
            throw new FuseMalformedRequestException($"{what} range {offset}+{length} exceeds loff_t");
        }
    }

    /// <summary>The reply of MKNOD, MKDIR, SYMLINK and LINK: fuse_entry_out or the error.</summary>
    private void SendEntry(in FuseRequestContext ctx, FuseOpcode opcode, Errno rc, in FuseEntry entry, FuseReplyWriter reply)
    {
        if (rc != Errno.None)
        {
            reply.SendError(rc);
            return;
        }

        if (this.CheckNewEntry(ctx, opcode, entry, reply))
        {
            reply.Send(MakeEntryOut(entry, this.entryValid, this.attrValid, this.regularFileAttrFlags));
        }
    }

    /// <summary>A successful entry-creating reply needs a new real node: the kernel rejects node
    /// id 0 and FUSE_ROOT_ID there (fs/fuse/dir.c create_new_entry, fuse_create_open:
    /// invalid_nodeid), so that is answered EIO here.</summary>
    private bool CheckNewEntry(in FuseRequestContext ctx, FuseOpcode opcode, in FuseEntry entry, FuseReplyWriter reply)
    {
        if (entry.NodeId is not (0 or FuseAbi.FUSE_ROOT_ID))
        {
            return true;
        }

        FuseLog.InvalidResult(this.logger, opcode, ctx.Unique, $"node id {entry.NodeId} for a created entry");
        reply.SendError(Errno.EIO);
        return false;
    }
}
