using System.Text;
using Safemount.Ext4;
using Safemount.Fuse;
using Safemount.Shared.Interop;

namespace Safemount.Ext4Service.Bridge;

/// <summary>
/// The write half of <see cref="IFuseFileSystem"/>: each request becomes one engine operation
/// (which takes its own inode locks and handle). Engine outcomes (<see cref="Ext4Errno"/>) carry
/// Linux errno values and are passed on unchanged. On a read-only volume the session answers
/// EROFS before any of these is called; Lseek also serves read-only mounts.
/// Permissions are the kernel's (the helper always mounts with default_permissions), so these
/// methods check only what the kernel cannot: existence, types and the file system's own limits.
/// </summary>
internal sealed partial class Ext4FuseFileSystem
{
    private const uint S_IFMT = 0xF000;
    private const uint S_IFREG = 0x8000;
    private const uint S_IFDIR = 0x4000;
    private const uint S_IFLNK = 0xA000;
    private const int O_TRUNC = 0x200;
    private const uint SEEK_DATA = 3;
    private const uint SEEK_HOLE = 4;

    /// <summary>FUSE_SETXATTR_ACL_KILL_SGID (setxattr_flags with FUSE_SETXATTR_EXT).</summary>
    private const uint FUSE_SETXATTR_ACL_KILL_SGID = 1;

    /// <summary>XATTR_CREATE / XATTR_REPLACE (linux/xattr.h).</summary>
    private const uint XATTR_CREATE = 1;
    private const uint XATTR_REPLACE = 2;

    /// <summary>Largest COPY_FILE_RANGE chunk moved per read/write pair.</summary>
    private const int CopyChunk = 1 << 20;

    public Errno Create(in FuseRequestContext ctx, ulong parent, ReadOnlySpan<byte> name, uint mode, uint flags, out FuseEntry entry, out ulong fh, out uint openFlags)
    {
        entry = default;
        fh = 0;
        openFlags = 0;
        Errno e = ParentInode(parent, out uint dir);
        if (e != Errno.None)
        {
            return e;
        }

        Ext4Errno r = _volume.Create(dir, name, (ushort)(S_IFREG | (mode & 0xFFF)), ctx.Uid, ctx.Gid, out Ext4Inode? created, ctx.Umask);
        if (RetryAfterCommit(r))
        {
            r = _volume.Create(dir, name, (ushort)(S_IFREG | (mode & 0xFFF)), ctx.Uid, ctx.Gid, out created, ctx.Umask);
        }

        if (r != Ext4Errno.None)
        {
            return ToErrno(r);
        }

        entry = MakeEntry(created!);
        _lookups.Add(entry.NodeId);
        fh = _files.Add(new OpenFile(created!));
        openFlags = FOPEN_KEEP_CACHE;
        return Errno.None;
    }

    public Errno TmpFile(in FuseRequestContext ctx, ulong parent, uint mode, uint flags, out FuseEntry entry, out ulong fh, out uint openFlags)
    {
        entry = default;
        fh = 0;
        openFlags = 0;
        Errno e = ParentInode(parent, out uint dir);
        if (e != Errno.None)
        {
            return e;
        }

        Ext4Errno r = _volume.CreateTmpFile(dir, (ushort)(S_IFREG | (mode & 0xFFF)), ctx.Uid, ctx.Gid, out Ext4Inode? created, ctx.Umask);
        if (RetryAfterCommit(r))
        {
            r = _volume.CreateTmpFile(dir, (ushort)(S_IFREG | (mode & 0xFFF)), ctx.Uid, ctx.Gid, out created, ctx.Umask);
        }

        if (r != Ext4Errno.None)
        {
            return ToErrno(r);
        }

        entry = MakeEntry(created!);
        _lookups.Add(entry.NodeId);
        fh = _files.Add(new OpenFile(created!));
        openFlags = FOPEN_KEEP_CACHE;
        return Errno.None;
    }

    public Errno MkNod(in FuseRequestContext ctx, ulong parent, ReadOnlySpan<byte> name, uint mode, uint rdev, out FuseEntry entry)
    {
        entry = default;
        Errno e = ParentInode(parent, out uint dir);
        if (e != Errno.None)
        {
            return e;
        }

        // rdev is the kernel's new_encode_dev(): minor[7:0] | major[11:0] << 8 | minor[19:8] << 20.
        uint major = (rdev & 0xFFF00) >> 8;
        uint minor = (rdev & 0xFF) | ((rdev >> 12) & 0xFFF00);
        Ext4Errno r = MakeNode(in ctx, dir, name, mode, major, minor, out Ext4Inode? created);
        if (RetryAfterCommit(r))
        {
            r = MakeNode(in ctx, dir, name, mode, major, minor, out created);
        }

        return Entered(r, created, out entry);
    }

    public Errno MkDir(in FuseRequestContext ctx, ulong parent, ReadOnlySpan<byte> name, uint mode, out FuseEntry entry)
    {
        entry = default;
        Errno e = ParentInode(parent, out uint dir);
        if (e != Errno.None)
        {
            return e;
        }

        Ext4Errno r = _volume.Mkdir(dir, name, (ushort)(S_IFDIR | (mode & 0xFFF)), ctx.Uid, ctx.Gid, out Ext4Inode? created, ctx.Umask);
        if (RetryAfterCommit(r))
        {
            r = _volume.Mkdir(dir, name, (ushort)(S_IFDIR | (mode & 0xFFF)), ctx.Uid, ctx.Gid, out created, ctx.Umask);
        }

        return Entered(r, created, out entry);
    }

    public Errno Symlink(in FuseRequestContext ctx, ulong parent, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, out FuseEntry entry)
    {
        entry = default;
        Errno e = ParentInode(parent, out uint dir);
        if (e != Errno.None)
        {
            return e;
        }

        Ext4Errno r = _volume.Symlink(dir, name, target, ctx.Uid, ctx.Gid, out Ext4Inode? created);
        if (RetryAfterCommit(r))
        {
            r = _volume.Symlink(dir, name, target, ctx.Uid, ctx.Gid, out created);
        }

        return Entered(r, created, out entry);
    }

    public Errno Link(in FuseRequestContext ctx, ulong nodeId, ulong newParent, ReadOnlySpan<byte> newName, out FuseEntry entry)
    {
        entry = default;
        uint ino = NodeIds.ToInode(nodeId);
        Errno e = ParentInode(newParent, out uint dir);
        if (ino == 0 || e != Errno.None)
        {
            return ino == 0 ? Errno.ESTALE : e;
        }

        Ext4Errno r = _volume.Link(ino, dir, newName, out Ext4Inode? linked);
        if (RetryAfterCommit(r))
        {
            r = _volume.Link(ino, dir, newName, out linked);
        }

        return Entered(r, linked, out entry);
    }

    public Errno Unlink(in FuseRequestContext ctx, ulong parent, ReadOnlySpan<byte> name)
    {
        Errno e = ParentInode(parent, out uint dir);
        return e != Errno.None ? e : ToErrno(_volume.Unlink(dir, name));
    }

    public Errno RmDir(in FuseRequestContext ctx, ulong parent, ReadOnlySpan<byte> name)
    {
        Errno e = ParentInode(parent, out uint dir);
        return e != Errno.None ? e : ToErrno(_volume.Rmdir(dir, name));
    }

    public Errno Rename(in FuseRequestContext ctx, ulong parent, ReadOnlySpan<byte> name, ulong newParent, ReadOnlySpan<byte> newName, FuseRenameFlags flags)
    {
        Errno e = ParentInode(parent, out uint from);
        if (e != Errno.None)
        {
            return e;
        }

        e = ParentInode(newParent, out uint to);
        if (e != Errno.None)
        {
            return e;
        }

        var engineFlags = RenameFlags.None;
        if ((flags & FuseRenameFlags.RENAME_WHITEOUT) != 0)
        {
            engineFlags |= RenameFlags.Whiteout;
        }

        if ((flags & FuseRenameFlags.RENAME_NOREPLACE) != 0)
        {
            engineFlags |= RenameFlags.NoReplace;
        }

        if ((flags & FuseRenameFlags.RENAME_EXCHANGE) != 0)
        {
            engineFlags |= RenameFlags.Exchange;
        }

        Ext4Errno r = _volume.Rename(from, name, to, newName, engineFlags, ctx.Uid, ctx.Gid);
        if (RetryAfterCommit(r))
        {
            r = _volume.Rename(from, name, to, newName, engineFlags, ctx.Uid, ctx.Gid);
        }

        return ToErrno(r);
    }

    public Errno SetAttr(in FuseRequestContext ctx, ulong nodeId, in FuseSetAttr changes, out FuseAttr attr)
    {
        attr = default;
        uint ino = NodeIds.ToInode(nodeId);
        if (ino == 0)
        {
            return Errno.ESTALE;
        }

        var (nowSec, nowNs) = Ext4Volume.Now();
        var change = new Ext4AttributeChange
        {
            Mode = changes.Has(FuseSetAttrValid.FATTR_MODE) ? (ushort)(changes.Mode & 0xFFF) : null,
            Uid = changes.Has(FuseSetAttrValid.FATTR_UID) ? changes.Uid : null,
            Gid = changes.Has(FuseSetAttrValid.FATTR_GID) ? changes.Gid : null,
            Size = changes.Has(FuseSetAttrValid.FATTR_SIZE) ? checked((long)changes.Size) : null,
            Atime = changes.Has(FuseSetAttrValid.FATTR_ATIME_NOW) ? (nowSec, nowNs)
                : changes.Has(FuseSetAttrValid.FATTR_ATIME) ? (changes.Atime, changes.AtimeNsec) : null,
            Mtime = changes.Has(FuseSetAttrValid.FATTR_MTIME_NOW) ? (nowSec, nowNs)
                : changes.Has(FuseSetAttrValid.FATTR_MTIME) ? (changes.Mtime, changes.MtimeNsec) : null,
            Ctime = changes.Has(FuseSetAttrValid.FATTR_CTIME) ? (changes.Ctime, changes.CtimeNsec) : null,
            KillSuidGid = changes.Has(FuseSetAttrValid.FATTR_KILL_SUIDGID),
            // A regular file's mtime under the writeback cache comes with FATTR_CTIME and without
            // FATTR_MTIME_NOW whether a caller chose it or the kernel flushes its own stamp
            // (fuse_flush_times, iattr_to_fattr's trust_local_cmtime): only atime tells.
            TimesExplicit = (changes.Has(FuseSetAttrValid.FATTR_ATIME) && !changes.Has(FuseSetAttrValid.FATTR_ATIME_NOW))
                || (changes.Has(FuseSetAttrValid.FATTR_MTIME) && !changes.Has(FuseSetAttrValid.FATTR_MTIME_NOW) && !changes.Has(FuseSetAttrValid.FATTR_CTIME)),
        };
        Ext4Errno r = _volume.SetAttributes(ino, change, out Ext4Inode? updated);
        if (r != Ext4Errno.None)
        {
            return ToErrno(r);
        }

        attr = AttrMapper.ToAttr(updated!, _volume.BlockSize);
        return Errno.None;
    }

    public Errno Write(in FuseRequestContext ctx, ulong nodeId, ulong fh, long offset, ReadOnlySpan<byte> data, FuseWriteFlags writeFlags, uint openFlags, out uint bytesWritten)
    {
        bytesWritten = 0;
        uint ino = NodeIds.ToInode(nodeId);
        if (ino == 0)
        {
            return Errno.ESTALE;
        }

        Ext4Errno r = WriteRetrying(in ctx, ino, offset, data, out int written);
        bytesWritten = (uint)written;
        if (written > 0 && (writeFlags & FuseWriteFlags.FUSE_WRITE_KILL_SUIDGID) != 0)
        {
            // HANDLE_KILLPRIV_V2: a write by someone other than the owner clears S_ISUID/S_ISGID (file_remove_privs).
            _volume.SetAttributes(ino, new Ext4AttributeChange { KillSuidGid = true }, out _);
        }

        // A short write is success with the count (the kernel retries the rest, which then fails).
        return written > 0 ? Errno.None : ToErrno(r);
    }

    public Errno Fallocate(in FuseRequestContext ctx, ulong nodeId, ulong fh, long offset, long length, uint mode)
    {
        uint ino = NodeIds.ToInode(nodeId);
        if (ino == 0)
        {
            return Errno.ESTALE;
        }

        Ext4Errno r = _volume.Fallocate(ino, (int)mode, offset, length, ctx.Uid, ctx.Gid);
        if (RetryAfterCommit(r))
        {
            r = _volume.Fallocate(ino, (int)mode, offset, length, ctx.Uid, ctx.Gid);
        }

        return ToErrno(r);
    }

    public Errno SetXattr(in FuseRequestContext ctx, ulong nodeId, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, uint flags, uint setxattrFlags)
    {
        uint ino = NodeIds.ToInode(nodeId);
        if (ino == 0)
        {
            return Errno.ESTALE;
        }

        var engineFlags = XattrSetFlags.None;
        if ((flags & XATTR_CREATE) != 0)
        {
            engineFlags |= XattrSetFlags.Create;
        }

        if ((flags & XATTR_REPLACE) != 0)
        {
            engineFlags |= XattrSetFlags.Replace;
        }

        bool killSgid = (setxattrFlags & FUSE_SETXATTR_ACL_KILL_SGID) != 0;
        string fullName = Encoding.UTF8.GetString(name);
        Ext4Errno r = _volume.SetXattr(ino, fullName, value, engineFlags, ctx.Uid, ctx.Gid, killSgid);
        if (RetryAfterCommit(r))
        {
            r = _volume.SetXattr(ino, fullName, value, engineFlags, ctx.Uid, ctx.Gid, killSgid);
        }

        return ToErrno(r);
    }

    public Errno RemoveXattr(in FuseRequestContext ctx, ulong nodeId, ReadOnlySpan<byte> name)
    {
        uint ino = NodeIds.ToInode(nodeId);
        return ino == 0 ? Errno.ESTALE : ToErrno(_volume.RemoveXattr(ino, Encoding.UTF8.GetString(name)));
    }

    public Errno Lseek(in FuseRequestContext ctx, ulong nodeId, ulong fh, long offset, uint whence, out long resultOffset)
    {
        resultOffset = 0;
        uint ino = NodeIds.ToInode(nodeId);
        if (ino == 0)
        {
            return Errno.ESTALE;
        }

        if (whence is not (SEEK_DATA or SEEK_HOLE) || _writebackCache)
        {
            // SEEK_SET/CUR/END never need the file system. Under the writeback cache the kernel
            // holds written pages the engine has not seen and FUSE_LSEEK does not flush them first,
            // so the engine's map could call fresh data a hole: ENOSYS makes the kernel answer with
            // its generic rule (all data up to EOF), which is never wrong.
            return Errno.ENOSYS;
        }

        Ext4Errno r = whence == SEEK_DATA
            ? _volume.SeekData(ino, offset, out resultOffset)
            : _volume.SeekHole(ino, offset, out resultOffset);
        return ToErrno(r);
    }

    public Errno CopyFileRange(in FuseRequestContext ctx, ulong nodeIn, ulong fhIn, long offsetIn, ulong nodeOut, ulong fhOut, long offsetOut, ulong length, ulong flags, out ulong bytesCopied)
    {
        bytesCopied = 0;
        uint from = NodeIds.ToInode(nodeIn), to = NodeIds.ToInode(nodeOut);
        if (from == 0 || to == 0)
        {
            return Errno.ESTALE;
        }

        if (flags != 0)
        {
            return Errno.EINVAL;
        }

        // A plain copy through a bounce buffer: ext4 has no reflink, so the kernel's own
        // copy_file_range on ext4 also copies the bytes (splice).
        var buffer = new byte[(int)Math.Min(length, CopyChunk)];
        while (bytesCopied < length)
        {
            int want = (int)Math.Min(length - bytesCopied, (ulong)buffer.Length);
            Ext4Inode source = _volume.ReadInode(from);
            int got = _volume.Read(source, offsetIn + (long)bytesCopied, buffer.AsSpan(0, want));
            if (got == 0)
            {
                break;
            }

            Ext4Errno r = WriteRetrying(in ctx, to, offsetOut + (long)bytesCopied, buffer.AsSpan(0, got), out int written);
            bytesCopied += (ulong)written;
            if (r != Ext4Errno.None || written < got)
            {
                return bytesCopied > 0 ? Errno.None : ToErrno(r);
            }
        }

        return Errno.None;
    }

    private Ext4Errno MakeNode(in FuseRequestContext ctx, uint dir, ReadOnlySpan<byte> name, uint mode, uint major, uint minor, out Ext4Inode? created) =>
        (mode & S_IFMT) == S_IFREG
            ? _volume.Create(dir, name, (ushort)mode, ctx.Uid, ctx.Gid, out created, ctx.Umask)
            : _volume.Mknod(dir, name, (ushort)mode, major, minor, ctx.Uid, ctx.Gid, out created, ctx.Umask);

    /// <summary>A write that ran short at ENOSPC continues once after a commit that may free space (<see cref="RetryAfterCommit"/>).</summary>
    private Ext4Errno WriteRetrying(in FuseRequestContext ctx, uint ino, long offset, ReadOnlySpan<byte> data, out int written)
    {
        Ext4Errno r = _volume.WriteFile(ino, offset, data, out written, ctx.Uid, ctx.Gid);

        // ENOSPC shows as a short count (success) once something was written.
        if (written < data.Length && RetryAfterCommit(r == Ext4Errno.None ? Ext4Errno.ENOSPC : r))
        {
            r = _volume.WriteFile(ino, offset + written, data[written..], out int more, ctx.Uid, ctx.Gid);
            written += more;
        }

        return r;
    }

    /// <summary>
    /// ext4_should_retry_alloc: an operation that failed with ENOSPC while blocks freed by an
    /// uncommitted transaction wait (they cannot be reused before it is durable) is worth one
    /// more try after a commit. Commits and returns true in that case. Called holding nothing.
    /// </summary>
    private bool RetryAfterCommit(Ext4Errno r)
    {
        if (r != Ext4Errno.ENOSPC || !_volume.SpaceWaitsForCommit)
        {
            return false;
        }

        _volume.Sync();
        return true;
    }

    /// <summary>Engine outcomes are Linux errno values.</summary>
    private static Errno ToErrno(Ext4Errno e) => (Errno)(int)e;

    /// <summary>The FUSE entry of an inode an operation just created or linked; counts the lookup the kernel now holds.</summary>
    private Errno Entered(Ext4Errno r, Ext4Inode? inode, out FuseEntry entry)
    {
        entry = default;
        if (r != Ext4Errno.None)
        {
            return ToErrno(r);
        }

        entry = MakeEntry(inode!);
        _lookups.Add(entry.NodeId);
        return Errno.None;
    }

    /// <summary>The inode of a parent node id (its type is the engine's to check).</summary>
    private static Errno ParentInode(ulong nodeId, out uint ino)
    {
        ino = NodeIds.ToInode(nodeId);
        return ino == 0 ? Errno.ESTALE : Errno.None;
    }
}
