using System.Text;
using Safemount.Fuse;
using Safemount.Shared.Interop;

namespace Safemount.Fuse.Tests;

/// <summary>
/// The data and attribute operations of <see cref="TestFileSystem"/> (SETATTR, WRITE,
/// FALLOCATE, xattrs, LSEEK, COPY_FILE_RANGE). SEEK_DATA/SEEK_HOLE treat every all-zero 4 KiB
/// block as a hole, so a test makes holes by writing past EOF or punching. Each call first
/// records its decoded arguments in <see cref="Calls"/>.
/// </summary>
internal sealed partial class TestFileSystem
{
    private const int HoleBlock = 4096;
    private const uint SEEK_DATA = 3;
    private const uint SEEK_HOLE = 4;
    private const uint FALLOC_FL_KEEP_SIZE = 1;
    private const uint FALLOC_FL_PUNCH_HOLE = 2;

    /// <summary>Largest file this in-memory tree holds, bytes; beyond it EFBIG.</summary>
    private const long MaxFileSize = 1 << 24;

    /// <summary>The last SETATTR as decoded.</summary>
    public FuseSetAttr? LastSetAttr { get; private set; }

    /// <summary>When set, WRITE claims this many bytes written whatever it got.</summary>
    public uint? WriteOverclaim { get; init; }

    /// <summary>When set, LSEEK answers this offset.</summary>
    public long? LseekOverride { get; init; }

    /// <summary>When set, COPY_FILE_RANGE claims this many bytes copied.</summary>
    public ulong? CopyOverclaim { get; init; }

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

            if (changes.Has(FuseSetAttrValid.FATTR_SIZE) && changes.Size > MaxFileSize)
            {
                return Errno.EFBIG;
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
            if (end > MaxFileSize)
            {
                return Errno.EFBIG;
            }

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
            if (end > MaxFileSize)
            {
                return Errno.EFBIG;
            }

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

            int n = (int)Math.Min(length, (ulong)Math.Max(0, src.Data.Length - offsetIn));
            if (offsetOut > MaxFileSize - n)
            {
                return Errno.EFBIG;
            }

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
}
