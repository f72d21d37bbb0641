using Microsoft.Win32.SafeHandles;
using Safemount.Fuse;
using Safemount.Fuse.Abi;
using Safemount.Shared.Interop;

namespace Safemount.Fuse.Tests;

/// <summary>
/// The iomap operations of the session test tree (the real mapping logic is tested against
/// ext4 images in Ext4.Tests): with 4 KiB blocks, "hello" (node 2, attr ino 12) has its block 0
/// MAPPED at device byte <see cref="HelloAddr"/>; past it a read sees a HOLE and a write gets
/// an UNWRITTEN block at <see cref="NewAddrBase"/> + offset. Every call is recorded in Calls.
/// </summary>
internal sealed partial class TestFileSystem
{
    public const uint IomapBlockSize = 4096;
    public const ulong HelloAddr = 0x10000;
    public const ulong NewAddrBase = 0x200000;

    /// <summary>The id BACKING_OPEN returned in IOMAP_CONFIG (0 before).</summary>
    public uint BackingId { get; private set; }

    /// <summary>Makes IomapBegin return this read half instead of the real one (reply checks).</summary>
    public FuseIomapMapping? ForcedRead { get; set; }

    public Errno IomapConfig(IFuseIomapDevice device, long kernelMaxBytes, out FuseIomapConfig config)
    {
        config = null!;
        using SafeFileHandle devNull = File.OpenHandle("/dev/null");
        Errno rc = device.IomapBackingOpen(devNull, out uint id);
        this.Record($"IomapConfig maxbytes={kernelMaxBytes} open={rc}");
        if (rc != Errno.None)
        {
            return rc;
        }

        this.BackingId = id;
        device.IomapSetBlockSize(id, IomapBlockSize);
        config = new FuseIomapConfig("test"u8.ToArray(), [.. Enumerable.Range(1, 16).Select(i => (byte)i)], IomapBlockSize, 65000, 1, -(1L << 31), (1L << 34) - 1, 1L << 44, 1 << 20);
        return Errno.None;
    }

    public Errno IomapBegin(in FuseRequestContext ctx, ulong nodeId, ulong attrIno, FuseIomapOp op, long pos, long count, out FuseIomapMapping read, out FuseIomapMapping write)
    {
        this.Record($"IomapBegin node={nodeId} ino={attrIno} op=0x{(uint)op:X} pos={pos} count={count}");
        read = write = default;
        if (nodeId != Hello || attrIno != AttrOf(Hello).Ino)
        {
            return Errno.ESTALE;
        }

        ulong start = (ulong)pos / IomapBlockSize * IomapBlockSize;
        if (this.ForcedRead is { } forced)
        {
            read = forced;
        }
        else if (start == 0)
        {
            read = new FuseIomapMapping(0, IomapBlockSize, HelloAddr, FuseIomapType.FUSE_IOMAP_TYPE_MAPPED, FuseIomapFlags.None, this.BackingId);
        }
        else if ((op & FuseIomapOp.WriteMask) != 0)
        {
            read = new FuseIomapMapping(start, IomapBlockSize, NewAddrBase + start, FuseIomapType.FUSE_IOMAP_TYPE_UNWRITTEN, FuseIomapFlags.FUSE_IOMAP_F_DIRTY, this.BackingId);
        }
        else
        {
            read = FuseIomapMapping.WithoutDevice(FuseIomapType.FUSE_IOMAP_TYPE_HOLE, start, IomapBlockSize);
        }

        write = FuseIomapMapping.PureOverwrite(read);
        return Errno.None;
    }

    public Errno IomapEnd(in FuseRequestContext ctx, ulong nodeId, ulong attrIno, FuseIomapOp op, long pos, long count, long written, in FuseIomapMapping map)
    {
        this.Record($"IomapEnd node={nodeId} ino={attrIno} op=0x{(uint)op:X} pos={pos} count={count} written={written} map={map.Offset}+{map.Length}@0x{map.Addr:X} type={(ushort)map.Type} flags=0x{(ushort)map.Flags:X} dev={map.Dev}");
        return Errno.None;
    }

    public Errno IomapIoend(in FuseRequestContext ctx, ulong nodeId, ulong attrIno, FuseIomapIoendFlags flags, Errno error, long pos, long written, out long newSize)
    {
        this.Record($"IomapIoend node={nodeId} ino={attrIno} flags=0x{(uint)flags:X} error={error} pos={pos} written={written}");
        newSize = Math.Max((long)AttrOf(Hello).Size, pos + written);
        return error;
    }

    public Errno FreezeFs(in FuseRequestContext ctx, ulong unlinked)
    {
        this.Record($"FreezeFs unlinked={unlinked}");
        return Errno.None;
    }

    public Errno UnfreezeFs(in FuseRequestContext ctx)
    {
        this.Record("UnfreezeFs");
        return Errno.None;
    }

    public Errno ShutdownFs(in FuseRequestContext ctx, ulong flags)
    {
        this.Record($"ShutdownFs flags={flags}");
        return Errno.None;
    }
}
