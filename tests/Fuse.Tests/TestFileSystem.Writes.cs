using System.Text;
using Safemount.Fuse;
using Safemount.Shared.Interop;

namespace Safemount.Fuse.Tests;

/// <summary>
/// The write operations of <see cref="TestFileSystem"/>: just enough POSIX for the kernel mount
/// test (names, link counts, rename flags, sizes, times, xattrs). SEEK_DATA/SEEK_HOLE treat
/// every all-zero 4 KiB block as a hole, so a test can make holes by writing past EOF or
/// punching. Each call first records its decoded arguments in <see cref="Calls"/>.
/// </summary>
internal sealed partial class TestFileSystem
{
    private const int HoleBlock = 4096;
    private const uint SEEK_DATA = 3;
    private const uint SEEK_HOLE = 4;
    private const uint FALLOC_FL_KEEP_SIZE = 1;
    private const uint FALLOC_FL_PUNCH_HOLE = 2;

    /// <summary>The last SETATTR as decoded.</summary>
    public FuseSetAttr? LastSetAttr { get; private set; }

    /// <summary>When set, WRITE claims this many bytes written whatever it got.</summary>
    public uint? WriteOverclaim { get; init; }

    /// <summary>When set, LSEEK answers this offset.</summary>
    public long? LseekOverride { get; init; }

    /// <summary>When set, entry-creating calls through AddNode answer this node id.</summary>
    public ulong? CreatedNodeOverride { get; init; }

    /// <summary>When set, COPY_FILE_RANGE claims this many bytes copied.</summary>
    public ulong? CopyOverclaim { get; init; }

    public Errno Create(in FuseRequestContext ctx, ulong parent, ReadOnlySpan<byte> name, uint mode, uint flags, out FuseEntry entry, out ulong fh, out uint openFlags)
    {
        this.Record($"CREATE parent={parent} name={Str(name)} mode={Oct(mode)} umask={Oct(ctx.Umask)} flags={flags:x}");
        openFlags = 0;
        Errno e = this.AddNode(ctx, parent, Str(name), mode, out entry, n => { });
        fh = 0x1000 + entry.NodeId;
        return e;
    }

    public Errno TmpFile(in FuseRequestContext ctx, ulong parent, uint mode, uint flags, out FuseEntry entry, out ulong fh, out uint openFlags)
    {
        this.Record($"TMPFILE parent={parent} mode={Oct(mode)} umask={Oct(ctx.Umask)} flags={flags:x}");
        openFlags = 0;
        lock (this.gate)
        {
            ulong node = this.nextNode++;
            var attr = NewAttr(ctx, node, mode);
            attr.Nlink = 0;
            this.nodes[node] = new Node(attr, parent);
            entry = this.EntryOf(node);
            fh = 0x1000 + node;
            return Errno.None;
        }
    }

    public Errno MkNod(in FuseRequestContext ctx, ulong parent, ReadOnlySpan<byte> name, uint mode, uint rdev, out FuseEntry entry)
    {
        this.Record($"MKNOD parent={parent} name={Str(name)} mode={Oct(mode)} rdev={rdev:x} umask={Oct(ctx.Umask)}");
        return this.AddNode(ctx, parent, Str(name), mode, out entry, n => n.Attr.Rdev = rdev);
    }

    public Errno MkDir(in FuseRequestContext ctx, ulong parent, ReadOnlySpan<byte> name, uint mode, out FuseEntry entry)
    {
        this.Record($"MKDIR parent={parent} name={Str(name)} mode={Oct(mode)} umask={Oct(ctx.Umask)}");
        return this.AddNode(ctx, parent, Str(name), S_IFDIR | (mode & 0xFFF), out entry, n =>
        {
            n.Children = [];
            n.Attr.Nlink = 2;
            n.Attr.Size = 4096;
            this.nodes[parent].Attr.Nlink++;
        });
    }

    public Errno Symlink(in FuseRequestContext ctx, ulong parent, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, out FuseEntry entry)
    {
        this.Record($"SYMLINK parent={parent} name={Str(name)} target={Str(target)}");
        byte[] t = target.ToArray();
        return this.AddNode(ctx, parent, Str(name), S_IFLNK | 0x1FF, out entry, n =>
        {
            n.Target = t;
            n.Attr.Size = (ulong)t.Length;
        });
    }

    public Errno Link(in FuseRequestContext ctx, ulong nodeId, ulong newParent, ReadOnlySpan<byte> newName, out FuseEntry entry)
    {
        this.Record($"LINK node={nodeId} newparent={newParent} name={Str(newName)}");
        entry = default;
        lock (this.gate)
        {
            if (!this.nodes.TryGetValue(nodeId, out Node? n) || !this.nodes.TryGetValue(newParent, out Node? dir) || dir.Children is null)
            {
                return Errno.ENOENT;
            }

            if (n.Children is not null)
            {
                return Errno.EPERM;
            }

            if (!dir.Children.TryAdd(Str(newName), nodeId))
            {
                return Errno.EEXIST;
            }

            n.Attr.Nlink++;
            Touch(ref n.Attr, mtime: false);
            entry = this.EntryOf(nodeId);
            return Errno.None;
        }
    }

    public Errno Unlink(in FuseRequestContext ctx, ulong parent, ReadOnlySpan<byte> name)
    {
        this.Record($"UNLINK parent={parent} name={Str(name)}");
        return this.RemoveName(parent, Str(name), directory: false);
    }

    public Errno RmDir(in FuseRequestContext ctx, ulong parent, ReadOnlySpan<byte> name)
    {
        this.Record($"RMDIR parent={parent} name={Str(name)}");
        return this.RemoveName(parent, Str(name), directory: true);
    }

    public Errno Rename(in FuseRequestContext ctx, ulong parent, ReadOnlySpan<byte> name, ulong newParent, ReadOnlySpan<byte> newName, FuseRenameFlags flags)
    {
        string from = Str(name);
        string to = Str(newName);
        this.Record($"RENAME parent={parent} name={from} newparent={newParent} newname={to} flags={flags}");
        lock (this.gate)
        {
            if (!this.nodes.TryGetValue(parent, out Node? src) || src.Children is null || !this.nodes.TryGetValue(newParent, out Node? dst) || dst.Children is null)
            {
                return Errno.ENOTDIR;
            }

            if (!src.Children.TryGetValue(from, out ulong moving))
            {
                return Errno.ENOENT;
            }

            bool exists = dst.Children.TryGetValue(to, out ulong replaced);
            if ((flags & FuseRenameFlags.RENAME_EXCHANGE) != 0)
            {
                if (!exists)
                {
                    return Errno.ENOENT;
                }

                src.Children[from] = replaced;
                dst.Children[to] = moving;
                this.Reparent(moving, parent, newParent);
                this.Reparent(replaced, newParent, parent);
                return Errno.None;
            }

            if (exists && (flags & FuseRenameFlags.RENAME_NOREPLACE) != 0)
            {
                return Errno.EEXIST;
            }

            if (flags != FuseRenameFlags.None && flags != FuseRenameFlags.RENAME_NOREPLACE)
            {
                return Errno.EINVAL;
            }

            if (exists && replaced != moving)
            {
                Errno e = this.RemoveName(newParent, to, directory: this.nodes[replaced].Children is not null);
                if (e != Errno.None)
                {
                    return e;
                }
            }

            src.Children.Remove(from);
            dst.Children[to] = moving;
            this.Reparent(moving, parent, newParent);
            return Errno.None;
        }
    }

    public Errno SetAttr(in FuseRequestContext ctx, ulong nodeId, in FuseSetAttr changes, out FuseAttr attr)
    {
        this.Record($"SETATTR node={nodeId} valid={changes.Valid} mode={Oct(changes.Mode)} uid={changes.Uid} gid={changes.Gid} size={changes.Size} fh={changes.Fh:x} atime={changes.Atime}.{changes.AtimeNsec} mtime={changes.Mtime}.{changes.MtimeNsec}");
        attr = default;
        this.LastSetAttr = changes;
        lock (this.gate)
        {
            if (!this.nodes.TryGetValue(nodeId, out Node? n))
            {
                return Errno.ENOENT;
            }

            ref FuseAttr a = ref n.Attr;
            if (changes.Has(FuseSetAttrValid.FATTR_MODE))
            {
                a.Mode = (a.Mode & S_IFMT) | (changes.Mode & 0xFFF);
            }

            if (changes.Has(FuseSetAttrValid.FATTR_UID))
            {
                a.Uid = changes.Uid;
            }

            if (changes.Has(FuseSetAttrValid.FATTR_GID))
            {
                a.Gid = changes.Gid;
            }

            if (changes.Has(FuseSetAttrValid.FATTR_SIZE))
            {
                Array.Resize(ref n.Data, (int)changes.Size);
                a.Size = changes.Size;
            }

            var now = DateTimeOffset.UtcNow;
            if (changes.Has(FuseSetAttrValid.FATTR_ATIME))
            {
                (a.Atime, a.AtimeNsec) = changes.Has(FuseSetAttrValid.FATTR_ATIME_NOW) ? Split(now) : (changes.Atime, changes.AtimeNsec);
            }

            if (changes.Has(FuseSetAttrValid.FATTR_MTIME))
            {
                (a.Mtime, a.MtimeNsec) = changes.Has(FuseSetAttrValid.FATTR_MTIME_NOW) ? Split(now) : (changes.Mtime, changes.MtimeNsec);
            }

            (a.Ctime, a.CtimeNsec) = changes.Has(FuseSetAttrValid.FATTR_CTIME) ? (changes.Ctime, changes.CtimeNsec) : Split(now);
            attr = a;
            return Errno.None;
        }
    }

    public Errno Write(in FuseRequestContext ctx, ulong nodeId, ulong fh, long offset, ReadOnlySpan<byte> data, FuseWriteFlags writeFlags, uint openFlags, out uint bytesWritten)
    {
        this.Record($"WRITE node={nodeId} fh={fh:x} offset={offset} size={data.Length} writeflags={writeFlags} flags={openFlags:x}");
        bytesWritten = 0;
        lock (this.gate)
        {
            if (!this.nodes.TryGetValue(nodeId, out Node? n) || (n.Attr.Mode & S_IFMT) != S_IFREG)
            {
                return Errno.EBADF;
            }

            long end = offset + data.Length;
            if (end > n.Data.Length)
            {
                Array.Resize(ref n.Data, (int)end);
                n.Attr.Size = (ulong)end;
            }

            data.CopyTo(n.Data.AsSpan((int)offset));
            Touch(ref n.Attr, mtime: true);
            bytesWritten = this.WriteOverclaim ?? (uint)data.Length;
            return Errno.None;
        }
    }

    public Errno Fallocate(in FuseRequestContext ctx, ulong nodeId, ulong fh, long offset, long length, uint mode)
    {
        this.Record($"FALLOCATE node={nodeId} fh={fh:x} offset={offset} length={length} mode={mode:x}");
        lock (this.gate)
        {
            if (!this.nodes.TryGetValue(nodeId, out Node? n))
            {
                return Errno.ENOENT;
            }

            long end = offset + length;
            switch (mode)
            {
                case 0:
                    if (end > n.Data.Length)
                    {
                        Array.Resize(ref n.Data, (int)end);
                        n.Attr.Size = (ulong)end;
                    }

                    return Errno.None;
                case FALLOC_FL_KEEP_SIZE:
                    return Errno.None;
                case FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE:
                    n.Data.AsSpan((int)Math.Min(offset, n.Data.Length), (int)(Math.Min(end, n.Data.Length) - Math.Min(offset, n.Data.Length))).Clear();
                    return Errno.None;
                default:
                    return Errno.EOPNOTSUPP;
            }
        }
    }

    public Errno SetXattr(in FuseRequestContext ctx, ulong nodeId, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, uint flags, uint setxattrFlags)
    {
        string s = Str(name);
        this.Record($"SETXATTR node={nodeId} name={s} value={Str(value)} flags={flags} setxattr_flags={setxattrFlags}");
        const uint XATTR_CREATE = 1;
        const uint XATTR_REPLACE = 2;
        lock (this.gate)
        {
            if (!this.nodes.TryGetValue(nodeId, out Node? n))
            {
                return Errno.ENOENT;
            }

            bool exists = n.Xattrs.ContainsKey(s);
            if ((flags & XATTR_CREATE) != 0 && exists)
            {
                return Errno.EEXIST;
            }

            if ((flags & XATTR_REPLACE) != 0 && !exists)
            {
                return Errno.ENODATA;
            }

            n.Xattrs[s] = value.ToArray();
            return Errno.None;
        }
    }

    public Errno RemoveXattr(in FuseRequestContext ctx, ulong nodeId, ReadOnlySpan<byte> name)
    {
        string s = Str(name);
        this.Record($"REMOVEXATTR node={nodeId} name={s}");
        lock (this.gate)
        {
            return this.nodes.TryGetValue(nodeId, out Node? n) && n.Xattrs.Remove(s) ? Errno.None : Errno.ENODATA;
        }
    }

    public Errno Lseek(in FuseRequestContext ctx, ulong nodeId, ulong fh, long offset, uint whence, out long resultOffset)
    {
        this.Record($"LSEEK node={nodeId} fh={fh:x} offset={offset} whence={whence}");
        resultOffset = this.LseekOverride ?? 0;
        if (this.LseekOverride is not null)
        {
            return Errno.None;
        }

        lock (this.gate)
        {
            if (!this.nodes.TryGetValue(nodeId, out Node? n))
            {
                return Errno.ENOENT;
            }

            long size = n.Data.Length;
            if (offset >= size)
            {
                return Errno.ENXIO;
            }

            for (long pos = offset; pos < size; pos = (pos / HoleBlock + 1) * HoleBlock)
            {
                long blockStart = pos / HoleBlock * HoleBlock;
                bool hole = !n.Data.AsSpan((int)blockStart, (int)Math.Min(HoleBlock, size - blockStart)).ContainsAnyExcept((byte)0);
                if ((whence == SEEK_DATA && !hole) || (whence == SEEK_HOLE && hole))
                {
                    resultOffset = pos;
                    return Errno.None;
                }
            }

            if (whence == SEEK_HOLE)
            {
                resultOffset = size;
                return Errno.None;
            }

            return whence == SEEK_DATA ? Errno.ENXIO : Errno.EINVAL;
        }
    }

    public Errno CopyFileRange(in FuseRequestContext ctx, ulong nodeIn, ulong fhIn, long offsetIn, ulong nodeOut, ulong fhOut, long offsetOut, ulong length, ulong flags, out ulong bytesCopied)
    {
        this.Record($"COPY_FILE_RANGE in={nodeIn} fhin={fhIn:x} offin={offsetIn} out={nodeOut} fhout={fhOut:x} offout={offsetOut} len={length} flags={flags}");
        bytesCopied = 0;
        lock (this.gate)
        {
            if (!this.nodes.TryGetValue(nodeIn, out Node? src) || !this.nodes.TryGetValue(nodeOut, out Node? dst))
            {
                return Errno.EBADF;
            }

            int n = (int)Math.Min((long)length, Math.Max(0, src.Data.Length - offsetIn));
            byte[] chunk = src.Data.AsSpan((int)Math.Min(offsetIn, src.Data.Length), n).ToArray();
            long end = offsetOut + n;
            if (end > dst.Data.Length)
            {
                Array.Resize(ref dst.Data, (int)end);
                dst.Attr.Size = (ulong)end;
            }

            chunk.CopyTo(dst.Data.AsSpan((int)offsetOut));
            Touch(ref dst.Attr, mtime: true);
            bytesCopied = this.CopyOverclaim ?? (ulong)n;
            return Errno.None;
        }
    }

    /// <summary>Replaces a file's data without the kernel knowing (notification tests).</summary>
    public void ReplaceDataBehindKernel(ulong node, byte[] data)
    {
        lock (this.gate)
        {
            this.nodes[node].Data = [.. data];
            this.nodes[node].Attr.Size = (ulong)data.Length;
        }
    }

    /// <summary>Removes a name without the kernel knowing (notification tests).</summary>
    public void RemoveNameBehindKernel(ulong parent, string name)
    {
        lock (this.gate)
        {
            this.nodes[parent].Children!.Remove(name);
        }
    }

    private static string Str(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);

    private static string Oct(uint v) => Convert.ToString(v, 8);

    private static (long Seconds, uint Nanoseconds) Split(DateTimeOffset t)
    {
        long ticks = t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        return (ticks / TimeSpan.TicksPerSecond, (uint)(ticks % TimeSpan.TicksPerSecond * 100));
    }

    private static void Touch(ref FuseAttr a, bool mtime)
    {
        var now = Split(DateTimeOffset.UtcNow);
        (a.Ctime, a.CtimeNsec) = now;
        if (mtime)
        {
            (a.Mtime, a.MtimeNsec) = now;
        }
    }

    private static FuseAttr NewAttr(in FuseRequestContext ctx, ulong node, uint mode)
    {
        var now = Split(DateTimeOffset.UtcNow);
        return new FuseAttr
        {
            Ino = node + 10,
            Mode = mode,
            Nlink = 1,
            Uid = ctx.Uid,
            Gid = ctx.Gid,
            Atime = now.Seconds,
            AtimeNsec = now.Nanoseconds,
            Mtime = now.Seconds,
            MtimeNsec = now.Nanoseconds,
            Ctime = now.Seconds,
            CtimeNsec = now.Nanoseconds,
            Blksize = 4096,
        };
    }

    private void Record(string call) => this.Calls.Enqueue(call);

    /// <summary>Adds a new node named <paramref name="name"/> in <paramref name="parent"/>,
    /// lets <paramref name="setup"/> finish it (under the gate) and counts one lookup.</summary>
    private Errno AddNode(in FuseRequestContext ctx, ulong parent, string name, uint mode, out FuseEntry entry, Action<Node> setup)
    {
        entry = default;
        lock (this.gate)
        {
            if (!this.nodes.TryGetValue(parent, out Node? dir) || dir.Children is null)
            {
                return Errno.ENOTDIR;
            }

            if (dir.Children.ContainsKey(name))
            {
                return Errno.EEXIST;
            }

            ulong node = this.nextNode++;
            var n = new Node(NewAttr(ctx, node, mode), parent);
            this.nodes[node] = n;
            dir.Children[name] = node;
            setup(n);
            entry = this.EntryOf(node);
            if (this.CreatedNodeOverride is ulong fake)
            {
                entry = entry with { NodeId = fake };
            }

            return Errno.None;
        }
    }

    /// <summary>Removes a name; the node stays in the table (open handles, lookups) with one
    /// link less. Caller may hold the gate (it is re-entrant).</summary>
    private Errno RemoveName(ulong parent, string name, bool directory)
    {
        lock (this.gate)
        {
            if (!this.nodes.TryGetValue(parent, out Node? dir) || dir.Children is null)
            {
                return Errno.ENOTDIR;
            }

            if (!dir.Children.TryGetValue(name, out ulong node))
            {
                return Errno.ENOENT;
            }

            Node n = this.nodes[node];
            bool isDir = n.Children is not null;
            if (directory != isDir)
            {
                return directory ? Errno.ENOTDIR : Errno.EISDIR;
            }

            if (isDir && n.Children!.Count != 0)
            {
                return Errno.ENOTEMPTY;
            }

            dir.Children.Remove(name);
            n.Attr.Nlink = isDir ? 0 : n.Attr.Nlink - 1;
            if (isDir)
            {
                dir.Attr.Nlink--;
            }

            Touch(ref n.Attr, mtime: false);
            return Errno.None;
        }
    }

    /// <summary>A directory moved from one parent to another takes its ".." link along (caller holds the gate).</summary>
    private void Reparent(ulong node, ulong from, ulong to)
    {
        Node n = this.nodes[node];
        n.Parent = to;
        if (n.Children is not null && from != to)
        {
            this.nodes[from].Attr.Nlink--;
            this.nodes[to].Attr.Nlink++;
        }
    }
}
