using System.Text;
using Safemount.Fuse;
using Safemount.Shared.Interop;

namespace Safemount.Fuse.Tests;

/// <summary>
/// The namespace operations of <see cref="TestFileSystem"/>: just enough POSIX for the kernel
/// mount test (names, link counts, rename flags). Each call first records its decoded arguments
/// in <see cref="Calls"/>.
/// </summary>
internal sealed partial class TestFileSystem
{
    /// <summary>When set, entry-creating calls through AddNode answer this node id.</summary>
    public ulong? CreatedNodeOverride { get; init; }

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
