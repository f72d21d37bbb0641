using System.Collections.Concurrent;
using System.Text;
using Safemount.Fuse;
using Safemount.Shared.Interop;

namespace Safemount.Fuse.Tests;

/// <summary>
/// A small in-memory tree for the session tests: root (node 1) holding "hello" (node 2, a
/// 12-byte file with xattr user.test), "link" (node 3 = LinkNode, symlink to "hello") and
/// <see cref="ExtraFiles"/> empty files "f000".. (nodes 100..). Node 99 throws
/// InvalidDataException from GETATTR (translated to EUCLEAN). Lookup counts are kept exactly.
/// With IsReadOnly false the write operations work on the same tree (TestFileSystem.Writes.cs,
/// TestFileSystem.Data.cs) and each records its decoded arguments in <see cref="Calls"/>.
/// Thread safety: every member takes <see cref="gate"/>; nothing blocks while holding it.
/// </summary>
internal sealed partial class TestFileSystem : IFuseFileSystem, IFuseIomapFileSystem
{
    public const ulong Root = 1;
    public const ulong Hello = 2;
    public const ulong LinkNode = 3;
    public const ulong Corrupt = 99;
    public const ulong FirstExtra = 100;

    /// <summary>Node ids of created nodes start here.</summary>
    public const ulong FirstCreated = 1000;

    public static readonly byte[] HelloData = Encoding.ASCII.GetBytes("hello world\n");
    public static readonly long Mtime = 1_700_000_000;

    private const uint S_IFMT = 0xF000;
    private const uint S_IFDIR = 0x4000;
    private const uint S_IFREG = 0x8000;
    private const uint S_IFLNK = 0xA000;

    private readonly Lock gate = new();
    private readonly Dictionary<ulong, Node> nodes = [];
    private readonly int extraFiles;
    private ulong nextNode = FirstCreated;

    public TestFileSystem()
    {
        var root = new Node(AttrOf(Root), Root) { Children = [] };
        this.nodes[Root] = root;
        this.nodes[Hello] = new Node(AttrOf(Hello), Root) { Data = [.. HelloData], Xattrs = { ["user.test"] = Encoding.ASCII.GetBytes("value") } };
        this.nodes[LinkNode] = new Node(AttrOf(LinkNode), Root) { Target = Encoding.ASCII.GetBytes("hello") };
        root.Children["hello"] = Hello;
        root.Children["link"] = LinkNode;
    }

    public int ExtraFiles
    {
        get => this.extraFiles;
        init
        {
            this.extraFiles = value;
            for (int i = 0; i < value; i++)
            {
                ulong node = FirstExtra + (ulong)i;
                this.nodes[node] = new Node(AttrOf(node), Root);
                this.nodes[Root].Children![$"f{i:D3}"] = node;
            }
        }
    }

    public bool IsReadOnly { get; init; } = true;

    public ConcurrentDictionary<ulong, long> LookupCounts { get; } = new();

    public ConcurrentQueue<(ulong Node, ulong Nlookup)> Forgets { get; } = new();

    public ConcurrentQueue<ulong> Released { get; } = new();

    /// <summary>One line per write-side call (and OPEN, FSYNC, LSEEK), in arrival order, such as
    /// "MKDIR parent=1 name=d mode=755 umask=22": the opcode and the fields it decoded to.</summary>
    public ConcurrentQueue<string> Calls { get; } = new();

    public FuseInitResult? InitSeen { get; private set; }

    public bool Destroyed { get; private set; }

    /// <summary>Directory listing of the root in cookie order: (name, node, DT_*).</summary>
    public List<(string Name, ulong Node, uint Type)> RootEntries()
    {
        lock (this.gate)
        {
            return this.EntriesOf(Root);
        }
    }

    public static FuseAttr AttrOf(ulong node)
    {
        var a = new FuseAttr
        {
            Ino = node + 10, // distinct from the node id so tests see which is which
            Nlink = 1,
            Uid = 0,
            Gid = 0,
            Atime = Mtime,
            Mtime = Mtime,
            Ctime = Mtime,
            MtimeNsec = 123456789,
            Blksize = 4096,
        };
        switch (node)
        {
            case Root:
                a.Mode = 0x4000 | 0x1ED; // S_IFDIR | 0755
                a.Nlink = 2;
                a.Size = 4096;
                break;
            case Hello:
                a.Mode = 0x8000 | 0x1A4; // S_IFREG | 0644
                a.Size = (ulong)HelloData.Length;
                a.Blocks = 8;
                break;
            case LinkNode:
                a.Mode = 0xA000 | 0x1FF; // S_IFLNK | 0777
                a.Size = 5;
                break;
            default:
                a.Mode = 0x8000 | 0x1A4;
                break;
        }

        return a;
    }

    public void Init(FuseInitResult init) => this.InitSeen = init;

    public void Destroy() => this.Destroyed = true;

    public Errno Lookup(in FuseRequestContext ctx, ulong parent, ReadOnlySpan<byte> name, out FuseEntry entry)
    {
        entry = default;
        string s = Encoding.UTF8.GetString(name);
        if (s == "boom")
        {
            throw new InvalidDataException("corrupt directory block");
        }

        lock (this.gate)
        {
            if (!this.nodes.TryGetValue(parent, out Node? dir) || dir.Children is null)
            {
                return Errno.ENOTDIR;
            }

            if (!dir.Children.TryGetValue(s, out ulong node))
            {
                return Errno.ENOENT;
            }

            entry = this.EntryOf(node);
            return Errno.None;
        }
    }

    public void Forget(ulong nodeId, ulong nlookup)
    {
        this.Forgets.Enqueue((nodeId, nlookup));
        this.LookupCounts.AddOrUpdate(nodeId, -(long)nlookup, (_, c) => c - (long)nlookup);
    }

    public Errno GetAttr(in FuseRequestContext ctx, ulong nodeId, out FuseAttr attr)
    {
        if (nodeId == Corrupt)
        {
            throw new InvalidDataException("bad inode checksum");
        }

        attr = this.AttrOfNode(nodeId);
        return Errno.None;
    }

    public Errno Statx(in FuseRequestContext ctx, ulong nodeId, out FuseAttr attr, out FuseStatxExtra extra)
    {
        attr = this.AttrOfNode(nodeId);
        extra = new FuseStatxExtra { Btime = 1_600_000_000, BtimeNsec = 42, HasBtime = nodeId == Hello };
        return Errno.None;
    }

    public Errno ReadLink(in FuseRequestContext ctx, ulong nodeId, out byte[] target)
    {
        lock (this.gate)
        {
            target = this.nodes.TryGetValue(nodeId, out Node? n) && n.Target is not null ? n.Target : [];
            return target.Length != 0 ? Errno.None : Errno.EINVAL;
        }
    }

    public Errno Open(in FuseRequestContext ctx, ulong nodeId, uint flags, out ulong fh, out uint openFlags)
    {
        fh = 0x1000 + nodeId;
        openFlags = 1U << 1; // FOPEN_KEEP_CACHE
        if (nodeId == Root)
        {
            return Errno.EISDIR;
        }

        this.Calls.Enqueue($"OPEN node={nodeId} flags={flags:x} kill={ctx.KillSuidGid}");
        const uint O_TRUNC = 0x200;
        if ((flags & O_TRUNC) != 0)
        {
            lock (this.gate)
            {
                if (this.nodes.TryGetValue(nodeId, out Node? n))
                {
                    n.Data = [];
                    n.Attr.Size = 0;
                    Touch(ref n.Attr, mtime: true);
                }
            }
        }

        return Errno.None;
    }

    public Errno Read(in FuseRequestContext ctx, ulong nodeId, ulong fh, long offset, Span<byte> destination, out int bytesRead)
    {
        bytesRead = 0;
        lock (this.gate)
        {
            if (!this.nodes.TryGetValue(nodeId, out Node? n) || (n.Attr.Mode & S_IFMT) != S_IFREG)
            {
                return Errno.EINVAL;
            }

            if (offset >= n.Data.Length)
            {
                return Errno.None;
            }

            ReadOnlySpan<byte> src = n.Data.AsSpan((int)offset);
            bytesRead = Math.Min(src.Length, destination.Length);
            src[..bytesRead].CopyTo(destination);
            return Errno.None;
        }
    }

    public void Release(ulong nodeId, ulong fh) => this.Released.Enqueue(fh);

    public Errno OpenDir(in FuseRequestContext ctx, ulong nodeId, uint flags, out ulong fh, out uint openFlags)
    {
        fh = 0x2000 + nodeId;
        openFlags = 0;
        lock (this.gate)
        {
            return this.nodes.TryGetValue(nodeId, out Node? n) && n.Children is not null ? Errno.None : Errno.ENOTDIR;
        }
    }

    public Errno ReadDir(in FuseRequestContext ctx, ulong nodeId, ulong fh, ulong offset, bool plus, ref FuseDirectoryWriter writer)
    {
        List<(string Name, ulong Node, uint Type)> entries;
        lock (this.gate)
        {
            entries = this.EntriesOf(nodeId);
        }

        for (int i = (int)offset; i < entries.Count; i++)
        {
            var (name, node, type) = entries[i];
            byte[] nameBytes = Encoding.UTF8.GetBytes(name);
            ulong next = (ulong)i + 1;
            FuseAttr attr = this.AttrOfNode(node);
            if (!plus)
            {
                if (!writer.TryAdd(attr.Ino, next, type, nameBytes))
                {
                    break;
                }

                continue;
            }

            bool dots = name is "." or "..";
            var entry = new FuseEntry(dots ? 0 : node, 7, attr);
            if (!writer.TryAddPlus(entry, next, type, nameBytes))
            {
                break;
            }

            if (!dots)
            {
                this.LookupCounts.AddOrUpdate(node, 1, (_, c) => c + 1);
            }
        }

        return Errno.None;
    }

    public void ReleaseDir(ulong nodeId, ulong fh) => this.Released.Enqueue(fh);

    public Errno StatFs(in FuseRequestContext ctx, ulong nodeId, out FuseStatFs statfs)
    {
        statfs = new FuseStatFs(1000, 500, 400, 100, 50, 4096, 255, 4096);
        return Errno.None;
    }

    public Errno GetXattr(in FuseRequestContext ctx, ulong nodeId, ReadOnlySpan<byte> name, out byte[]? value)
    {
        value = null;
        string s = Encoding.UTF8.GetString(name);
        lock (this.gate)
        {
            if (this.nodes.TryGetValue(nodeId, out Node? n) && n.Xattrs.TryGetValue(s, out byte[]? v))
            {
                value = v;
                return Errno.None;
            }
        }

        return Errno.ENODATA;
    }

    public Errno ListXattr(in FuseRequestContext ctx, ulong nodeId, out byte[] names)
    {
        lock (this.gate)
        {
            names = this.nodes.TryGetValue(nodeId, out Node? n)
                ? Encoding.ASCII.GetBytes(string.Concat(n.Xattrs.Keys.Select(k => k + "\0")))
                : [];
        }

        return Errno.None;
    }

    /// <summary>FUSE_IOCTL command that copies its input to its output; others are ENOTTY.</summary>
    public const uint EchoIoctl = 0xC0085A01;

    public ConcurrentQueue<(ulong Node, ulong Fh, uint Cmd, bool Directory)> Ioctls { get; } = new();

    /// <summary>The input bytes of each ioctl, in order.</summary>
    public ConcurrentQueue<byte[]> IoctlInputs { get; } = new();

    /// <summary>When set, Ioctl claims this many output bytes whatever the output size.</summary>
    public int? IoctlOverclaim { get; init; }

    public Errno Ioctl(in FuseRequestContext ctx, ulong nodeId, ulong fh, uint cmd, bool directory, ReadOnlySpan<byte> input, Span<byte> output, out int outputLength)
    {
        Ioctls.Enqueue((nodeId, fh, cmd, directory));
        IoctlInputs.Enqueue(input.ToArray());
        outputLength = 0;
        if (cmd != EchoIoctl)
        {
            return Errno.ENOTTY;
        }

        int n = Math.Min(input.Length, output.Length);
        input[..n].CopyTo(output);
        outputLength = IoctlOverclaim ?? n;
        return Errno.None;
    }

    public Errno Access(in FuseRequestContext ctx, ulong nodeId, uint mask) => (mask & 2) != 0 && this.IsReadOnly ? Errno.EROFS : Errno.None;

    public Errno Flush(in FuseRequestContext ctx, ulong nodeId, ulong fh) => Errno.None;

    /// <summary>A full (not data-only) FSYNC of "hello" fails with EIO; everything else succeeds.</summary>
    public Errno Fsync(in FuseRequestContext ctx, ulong nodeId, ulong fh, bool dataOnly, bool directory)
    {
        this.Calls.Enqueue($"{(directory ? "FSYNCDIR" : "FSYNC")} node={nodeId} fh={fh:x} datasync={dataOnly}");
        return !directory && !dataOnly && nodeId == Hello ? Errno.EIO : Errno.None;
    }

    public Errno SyncFs(in FuseRequestContext ctx) => Errno.None;

    public Errno TranslateException(Exception exception) => exception switch
    {
        InvalidDataException => Errno.EUCLEAN,
        _ => Errno.EIO,
    };

    /// <summary>The attributes of a node in the table; AttrOf for ids it does not hold.</summary>
    private FuseAttr AttrOfNode(ulong nodeId)
    {
        lock (this.gate)
        {
            return this.nodes.TryGetValue(nodeId, out Node? n) ? n.Attr : AttrOf(nodeId);
        }
    }

    /// <summary>".", "..", then the children in insertion order (caller holds the gate).</summary>
    private List<(string Name, ulong Node, uint Type)> EntriesOf(ulong dir)
    {
        var list = new List<(string, ulong, uint)>();
        if (!this.nodes.TryGetValue(dir, out Node? d) || d.Children is null)
        {
            return list;
        }

        list.Add((".", dir, 4));
        list.Add(("..", d.Parent, 4));
        foreach (var (name, node) in d.Children)
        {
            list.Add((name, node, (this.nodes[node].Attr.Mode >> 12) & 0xF));
        }

        return list;
    }

    /// <summary>A lookup result for <paramref name="node"/>, counting one lookup (caller holds the gate).</summary>
    private FuseEntry EntryOf(ulong node)
    {
        this.LookupCounts.AddOrUpdate(node, 1, (_, c) => c + 1);
        return new FuseEntry(node, 7, this.nodes[node].Attr);
    }

    /// <summary>One node: attributes plus data, directory children, symlink target and xattrs.</summary>
    private sealed class Node(FuseAttr attr, ulong parent)
    {
        public FuseAttr Attr = attr;

        /// <summary>Directory holding this node (".." of a directory).</summary>
        public ulong Parent = parent;

        public byte[] Data = [];

        /// <summary>Non-null for directories: name to node id, in insertion order.</summary>
        public Dictionary<string, ulong>? Children;

        public byte[]? Target;

        public Dictionary<string, byte[]> Xattrs { get; } = [];
    }
}
