using System.Collections.Concurrent;
using System.Text;
using Safemount.Fuse;
using Safemount.Shared.Interop;

namespace Safemount.Fuse.Tests;

/// <summary>
/// A small read-only tree for the session tests: root (node 1) holding "hello" (node 2, a
/// 12-byte file with xattr user.test), "link" (node 3, symlink to "hello") and
/// <see cref="ExtraFiles"/> empty files "f000".. (nodes 100..). Node 99 throws
/// InvalidDataException from GETATTR (translated to EUCLEAN). Lookup counts are kept exactly.
/// </summary>
internal sealed class TestFileSystem : IFuseFileSystem
{
    public const ulong Root = 1;
    public const ulong Hello = 2;
    public const ulong Link = 3;
    public const ulong Corrupt = 99;
    public const ulong FirstExtra = 100;
    public static readonly byte[] HelloData = Encoding.ASCII.GetBytes("hello world\n");
    public static readonly long Mtime = 1_700_000_000;

    public int ExtraFiles { get; init; }

    public bool IsReadOnly { get; init; } = true;

    public ConcurrentDictionary<ulong, long> LookupCounts { get; } = new();

    public ConcurrentQueue<(ulong Node, ulong Nlookup)> Forgets { get; } = new();

    public ConcurrentQueue<ulong> Released { get; } = new();

    public FuseInitResult? InitSeen { get; private set; }

    public bool Destroyed { get; private set; }

    /// <summary>Directory listing in cookie order: (name, node, DT_*).</summary>
    public List<(string Name, ulong Node, uint Type)> RootEntries()
    {
        var list = new List<(string, ulong, uint)> { (".", Root, 4), ("..", Root, 4), ("hello", Hello, 8), ("link", Link, 10) };
        for (int i = 0; i < this.ExtraFiles; i++)
        {
            list.Add(($"f{i:D3}", FirstExtra + (ulong)i, 8));
        }

        return list;
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
            case Link:
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
        if (parent != Root)
        {
            return Errno.ENOTDIR;
        }

        string s = Encoding.UTF8.GetString(name);
        if (s == "boom")
        {
            throw new InvalidDataException("corrupt directory block");
        }

        foreach (var (n, node, _) in this.RootEntries())
        {
            if (n == s && n is not ("." or ".."))
            {
                entry = new FuseEntry(node, 7, AttrOf(node));
                this.LookupCounts.AddOrUpdate(node, 1, (_, c) => c + 1);
                return Errno.None;
            }
        }

        return Errno.ENOENT;
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

        attr = AttrOf(nodeId);
        return Errno.None;
    }

    public Errno Statx(in FuseRequestContext ctx, ulong nodeId, out FuseAttr attr, out FuseStatxExtra extra)
    {
        attr = AttrOf(nodeId);
        extra = new FuseStatxExtra { Btime = 1_600_000_000, BtimeNsec = 42, HasBtime = nodeId == Hello };
        return Errno.None;
    }

    public Errno ReadLink(in FuseRequestContext ctx, ulong nodeId, out byte[] target)
    {
        target = nodeId == Link ? Encoding.ASCII.GetBytes("hello") : [];
        return nodeId == Link ? Errno.None : Errno.EINVAL;
    }

    public Errno Open(in FuseRequestContext ctx, ulong nodeId, uint flags, out ulong fh, out uint openFlags)
    {
        fh = 0x1000 + nodeId;
        openFlags = 1U << 1; // FOPEN_KEEP_CACHE
        return nodeId == Root ? Errno.EISDIR : Errno.None;
    }

    public Errno Read(in FuseRequestContext ctx, ulong nodeId, ulong fh, long offset, Span<byte> destination, out int bytesRead)
    {
        bytesRead = 0;
        if (nodeId != Hello)
        {
            return Errno.EINVAL;
        }

        if (offset >= HelloData.Length)
        {
            return Errno.None;
        }

        ReadOnlySpan<byte> src = HelloData.AsSpan((int)offset);
        bytesRead = Math.Min(src.Length, destination.Length);
        src[..bytesRead].CopyTo(destination);
        return Errno.None;
    }

    public void Release(ulong nodeId, ulong fh) => this.Released.Enqueue(fh);

    public Errno OpenDir(in FuseRequestContext ctx, ulong nodeId, uint flags, out ulong fh, out uint openFlags)
    {
        fh = 0x2000 + nodeId;
        openFlags = 0;
        return nodeId == Root ? Errno.None : Errno.ENOTDIR;
    }

    public Errno ReadDir(in FuseRequestContext ctx, ulong nodeId, ulong fh, ulong offset, bool plus, ref FuseDirectoryWriter writer)
    {
        var entries = this.RootEntries();
        for (int i = (int)offset; i < entries.Count; i++)
        {
            var (name, node, type) = entries[i];
            byte[] nameBytes = Encoding.UTF8.GetBytes(name);
            ulong next = (ulong)i + 1;
            if (!plus)
            {
                if (!writer.TryAdd(AttrOf(node).Ino, next, type, nameBytes))
                {
                    break;
                }

                continue;
            }

            bool dots = name is "." or "..";
            var entry = new FuseEntry(dots ? 0 : node, 7, AttrOf(node));
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
        if (nodeId == Hello && name.SequenceEqual("user.test"u8))
        {
            value = Encoding.ASCII.GetBytes("value");
            return Errno.None;
        }

        return Errno.ENODATA;
    }

    public Errno ListXattr(in FuseRequestContext ctx, ulong nodeId, out byte[] names)
    {
        names = nodeId == Hello ? Encoding.ASCII.GetBytes("user.test\0") : [];
        return Errno.None;
    }

    /// <summary>FUSE_IOCTL command that copies its input to its output; others are ENOTTY.</summary>
    public const uint EchoIoctl = 0xC0085A01;

    public ConcurrentQueue<(ulong Node, ulong Fh, uint Cmd, bool Directory)> Ioctls { get; } = new();

    /// <summary>When set, Ioctl claims this many output bytes whatever the output size.</summary>
    public int? IoctlOverclaim { get; init; }

    public Errno Ioctl(in FuseRequestContext ctx, ulong nodeId, ulong fh, uint cmd, bool directory, ReadOnlySpan<byte> input, Span<byte> output, out int outputLength)
    {
        Ioctls.Enqueue((nodeId, fh, cmd, directory));
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

    public Errno Access(in FuseRequestContext ctx, ulong nodeId, uint mask) => (mask & 2) != 0 ? Errno.EROFS : Errno.None;

    public Errno Flush(in FuseRequestContext ctx, ulong nodeId, ulong fh) => Errno.None;

    public Errno Fsync(in FuseRequestContext ctx, ulong nodeId, ulong fh, bool dataOnly, bool directory) => directory ? Errno.None : (dataOnly ? Errno.None : Errno.EIO);

    public Errno SyncFs(in FuseRequestContext ctx) => Errno.None;

    public Errno TranslateException(Exception exception) => exception switch
    {
        InvalidDataException => Errno.EUCLEAN,
        _ => Errno.EIO,
    };
}
