using System.Numerics;
using Safemount.Fuse.Abi;
using Safemount.Shared.Interop;

namespace Safemount.Fuse;

/// <summary>
/// The fuse-iomap v7 opcodes (FUSE-PROTOCOL.md §2.3): decoding, the checks of every
/// kernel-supplied value, and the self-check of every BEGIN reply against the kernel's own
/// validation (§2.7), so a file system bug becomes EIO here instead of EFSCORRUPTED in the kernel.
/// Without FUSE_IOMAP negotiated (or a file system without <see cref="IFuseIomapFileSystem"/>)
/// each opcode is answered ENOSYS, which the kernel reads as "not implemented" (§2.3).
/// </summary>
public sealed partial class FuseSession
{
    /// <summary>Largest loff_t: no byte range of a file may end past it.</summary>
    private const ulong MaxLoff = long.MaxValue;

    /// <summary>Set by the IOMAP_CONFIG handler once the file system answered, after
    /// <see cref="iomapBlockSize"/> (the volatile write publishes both); read by BEGIN.</summary>
    private volatile FuseIomapDeviceRegistry? iomapDevices;

    /// <summary>s_blocksize the file system reported in IOMAP_CONFIG (0 before): every mapping
    /// must be aligned to it. Read only after <see cref="iomapDevices"/> was seen non-null.</summary>
    private uint iomapBlockSize;

    internal static bool IsIomapOpcode(FuseOpcode opcode) => opcode is
        FuseOpcode.FUSE_FREEZE_FS or FuseOpcode.FUSE_UNFREEZE_FS or FuseOpcode.FUSE_SHUTDOWN_FS
        or FuseOpcode.FUSE_IOMAP_CONFIG or FuseOpcode.FUSE_IOMAP_IOEND or FuseOpcode.FUSE_IOMAP_BEGIN
        or FuseOpcode.FUSE_IOMAP_END;

    private void DispatchIomap(FuseOpcode opcode, in FuseRequestContext ctx, ref FuseRequestReader reader, FuseReplyWriter reply)
    {
        if (!this.initResult.Iomap || this.fs is not IFuseIomapFileSystem iomapFs)
        {
            FuseLog.Unsupported(this.logger, opcode, ctx.Unique);
            reply.SendError(Errno.ENOSYS);
            return;
        }

        switch (opcode)
        {
            case FuseOpcode.FUSE_IOMAP_CONFIG: this.HandleIomapConfig(iomapFs, ref reader, reply); break;
            case FuseOpcode.FUSE_IOMAP_BEGIN: this.HandleIomapBegin(iomapFs, ctx, ref reader, reply); break;
            case FuseOpcode.FUSE_IOMAP_END: this.HandleIomapEnd(iomapFs, ctx, ref reader, reply); break;
            case FuseOpcode.FUSE_IOMAP_IOEND: this.HandleIomapIoend(iomapFs, ctx, ref reader, reply); break;
            case FuseOpcode.FUSE_FREEZE_FS:
                reply.SendError(iomapFs.FreezeFs(ctx, reader.Read<FuseFreezefsIn>().Unlinked));
                break;
            case FuseOpcode.FUSE_UNFREEZE_FS:
                reply.SendError(iomapFs.UnfreezeFs(ctx));
                break;
            case FuseOpcode.FUSE_SHUTDOWN_FS:
                reply.SendError(iomapFs.ShutdownFs(ctx, reader.Read<FuseShutdownfsIn>().Flags));
                break;
            default: throw new InvalidOperationException($"{opcode} is not an iomap opcode");
        }
    }

    /// <summary>FUSE_IOMAP_CONFIG: the file system registers its device and reports the
    /// superblock; the reply carries only the CONFIG_* fields the kernel said it accepts.</summary>
    private void HandleIomapConfig(IFuseIomapFileSystem iomapFs, ref FuseRequestReader reader, FuseReplyWriter reply)
    {
        FuseIomapConfigIn configIn = reader.Read<FuseIomapConfigIn>();
        if (configIn.Maxbytes <= 0)
        {
            throw new FuseMalformedRequestException($"IOMAP_CONFIG maxbytes {configIn.Maxbytes}");
        }

        if (this.iomapDevices is not null)
        {
            throw new FuseMalformedRequestException("second FUSE_IOMAP_CONFIG");
        }

        if (this.device is not IFuseIomapDevice rawDevice)
        {
            reply.SendError(Errno.ENODEV);
            return;
        }

        var registry = new FuseIomapDeviceRegistry(rawDevice);
        Errno rc = iomapFs.IomapConfig(registry, configIn.Maxbytes, out FuseIomapConfig config);
        if (rc != Errno.None)
        {
            reply.SendError(rc);
            return;
        }

        if (!BitOperations.IsPow2(config.BlockSize) || config.BlockSize < 512 || config.BlockSize > 65536
            || config.TimeGranularityNs is < 1 or > 1_000_000_000 || config.MaxBytes <= 0 || config.TimeMin > config.TimeMax)
        {
            FuseLog.IomapConfigInvalid(this.logger, config.BlockSize, config.TimeGranularityNs, config.MaxBytes);
            reply.SendError(Errno.EIO);
            return;
        }

        var accepted = (FuseIomapConfigFlags)configIn.Flags;
        var o = new FuseIomapConfigOut();
        o.SetSid(config.Sid);
        o.SetUuid(config.Uuid);
        o.SBlocksize = config.BlockSize;
        o.SMaxLinks = config.MaxLinks;
        o.STimeGran = config.TimeGranularityNs;
        o.STimeMin = config.TimeMin;
        o.STimeMax = config.TimeMax;
        o.SMaxbytes = Math.Min(config.MaxBytes, configIn.Maxbytes);
        o.CacheMaxbytes = Math.Min(config.CacheMaxbytes, FuseAbi.FUSE_IOMAP_CACHE_MAX_MAXBYTES);
        FuseIomapConfigFlags sent = FuseIomapConfigFlags.FUSE_IOMAP_CONFIG_SID | FuseIomapConfigFlags.FUSE_IOMAP_CONFIG_UUID
            | FuseIomapConfigFlags.FUSE_IOMAP_CONFIG_BLOCKSIZE | FuseIomapConfigFlags.FUSE_IOMAP_CONFIG_MAX_LINKS
            | FuseIomapConfigFlags.FUSE_IOMAP_CONFIG_TIME | FuseIomapConfigFlags.FUSE_IOMAP_CONFIG_MAXBYTES
            | (config.CacheMaxbytes != 0 ? FuseIomapConfigFlags.FUSE_IOMAP_CONFIG_CACHE_MAXBYTES : FuseIomapConfigFlags.None);
        o.Flags = (ulong)(sent & accepted);

        // Published before the reply: BEGIN can arrive on another worker as soon as it is written.
        this.iomapBlockSize = config.BlockSize;
        this.iomapDevices = registry;
        reply.Send(o);
    }

    private void HandleIomapBegin(IFuseIomapFileSystem iomapFs, in FuseRequestContext ctx, ref FuseRequestReader reader, FuseReplyWriter reply)
    {
        FuseIomapBeginIn begin = reader.Read<FuseIomapBeginIn>();
        var op = CheckOpflags(begin.Opflags, begin.Reserved, "BEGIN");
        CheckRange(begin.Pos, begin.Count, "BEGIN");
        if (begin.Count == 0)
        {
            throw new FuseMalformedRequestException("IOMAP_BEGIN count 0");
        }

        FuseIomapDeviceRegistry? devices = this.iomapDevices;
        if (devices is null)
        {
            // The kernel sends CONFIG before any I/O; without it no device is registered.
            reply.SendError(Errno.EIO);
            return;
        }

        Errno rc = iomapFs.IomapBegin(ctx, ctx.NodeId, begin.AttrIno, op, (long)begin.Pos, (long)begin.Count, out FuseIomapMapping read, out FuseIomapMapping write);
        if (rc != Errno.None)
        {
            reply.SendError(rc);
            return;
        }

        string? problem = CheckMapping(read, begin.Pos, writeHalf: false, this.iomapBlockSize, devices)
            ?? CheckMapping(write, begin.Pos, writeHalf: true, this.iomapBlockSize, devices);
        if (problem is not null)
        {
            FuseLog.IomapMappingInvalid(this.logger, ctx.NodeId, begin.Pos, problem);
            reply.SendError(Errno.EIO);
            return;
        }

        reply.Send(new FuseIomapBeginOut { Read = read.ToWire(), Write = write.ToWire() });
    }

    private void HandleIomapEnd(IFuseIomapFileSystem iomapFs, in FuseRequestContext ctx, ref FuseRequestReader reader, FuseReplyWriter reply)
    {
        FuseIomapEndIn end = reader.Read<FuseIomapEndIn>();
        var op = CheckOpflags(end.Opflags, end.Reserved, "END");
        CheckRange(end.Pos, end.Count, "END");
        if (end.Written < 0 || (ulong)end.Written > end.Count)
        {
            throw new FuseMalformedRequestException($"IOMAP_END written {end.Written} of count {end.Count}");
        }

        reply.SendError(iomapFs.IomapEnd(ctx, ctx.NodeId, end.AttrIno, op, (long)end.Pos, (long)end.Count, end.Written, FuseIomapMapping.FromWire(end.Map)));
    }

    private void HandleIomapIoend(IFuseIomapFileSystem iomapFs, in FuseRequestContext ctx, ref FuseRequestReader reader, FuseReplyWriter reply)
    {
        FuseIomapIoendIn ioend = reader.Read<FuseIomapIoendIn>();
        var flags = (FuseIomapIoendFlags)ioend.Flags;
        if ((flags & ~FuseIomapIoendFlags.KnownMask) != 0)
        {
            throw new FuseMalformedRequestException($"IOMAP_IOEND flags 0x{ioend.Flags:X} has unknown bits");
        }

        // error is 0 or -errno (include/linux/err.h MAX_ERRNO 4095).
        if (ioend.Error is > 0 or < -4095)
        {
            throw new FuseMalformedRequestException($"IOMAP_IOEND error {ioend.Error}");
        }

        CheckRange(ioend.Pos, ioend.Written, "IOEND");
        Errno rc = iomapFs.IomapIoend(ctx, ctx.NodeId, ioend.AttrIno, flags, (Errno)(-ioend.Error), (long)ioend.Pos, (long)ioend.Written, out long newSize);
        if (rc != Errno.None)
        {
            reply.SendError(rc);
            return;
        }

        reply.Send(new FuseIomapIoendOut { Newsize = (ulong)newSize });
    }

    private static FuseIomapOp CheckOpflags(uint opflags, uint reserved, string what)
    {
        var op = (FuseIomapOp)opflags;
        if ((op & ~FuseIomapOp.KnownMask) != 0)
        {
            throw new FuseMalformedRequestException($"IOMAP_{what} opflags 0x{opflags:X} has unknown bits");
        }

        if (reserved != 0)
        {
            throw new FuseMalformedRequestException($"IOMAP_{what} reserved 0x{reserved:X}");
        }

        return op;
    }

    private static void CheckRange(ulong pos, ulong count, string what)
    {
        if (pos > MaxLoff || count > MaxLoff - pos)
        {
            throw new FuseMalformedRequestException($"IOMAP_{what} range {pos}+{count} passes loff_t");
        }
    }

    /// <summary>
    /// The kernel's check of one BEGIN reply half (fs/fuse/fuse_iomap.c, FUSE-PROTOCOL.md §2.7):
    /// a known type (PURE_OVERWRITE only in the write half; never NOCACHE or RETRY_CACHE, this
    /// server keeps no mapping cache of its own), only reply F_* bits, length &gt; 0, offset and
    /// length block aligned, no overflow, pos inside; MAPPED/UNWRITTEN on a registered device at
    /// a real address, everything else on dev 0 at NULL_ADDR. Null when valid, else the reason.
    /// </summary>
    internal static string? CheckMapping(in FuseIomapMapping m, ulong pos, bool writeHalf, uint blockSize, FuseIomapDeviceRegistry devices)
    {
        string half = writeHalf ? "write" : "read";
        bool device = m.Type is FuseIomapType.FUSE_IOMAP_TYPE_MAPPED or FuseIomapType.FUSE_IOMAP_TYPE_UNWRITTEN;
        bool deviceless = m.Type is FuseIomapType.FUSE_IOMAP_TYPE_HOLE or FuseIomapType.FUSE_IOMAP_TYPE_DELALLOC
            or FuseIomapType.FUSE_IOMAP_TYPE_INLINE
            || (writeHalf && m.Type == FuseIomapType.FUSE_IOMAP_TYPE_PURE_OVERWRITE);
        if (!device && !deviceless)
        {
            return $"{half} type {(ushort)m.Type} not allowed";
        }

        if ((m.Flags & ~FuseIomapFlags.ReplyMask) != 0)
        {
            return $"{half} flags 0x{(ushort)m.Flags:X} outside the reply bits";
        }

        ulong mask = blockSize - 1;
        if (m.Length == 0 || (m.Offset & mask) != 0 || (m.Length & mask) != 0)
        {
            return $"{half} {m.Offset}+{m.Length} empty or not aligned to {blockSize}";
        }

        if (m.Offset > MaxLoff || m.Length > MaxLoff - m.Offset)
        {
            return $"{half} {m.Offset}+{m.Length} overflows";
        }

        if (pos < m.Offset || pos >= m.Offset + m.Length)
        {
            return $"{half} {m.Offset}+{m.Length} does not contain pos {pos}";
        }

        if (device)
        {
            if (m.Addr == FuseAbi.FUSE_IOMAP_NULL_ADDR || (m.Addr & mask) != 0)
            {
                return $"{half} addr 0x{m.Addr:X} null or not aligned";
            }

            if (m.Dev == FuseAbi.FUSE_IOMAP_DEV_NULL || !devices.IsRegistered(m.Dev))
            {
                return $"{half} dev {m.Dev} is not a registered backing id";
            }
        }
        else if (m.Addr != FuseAbi.FUSE_IOMAP_NULL_ADDR || m.Dev != FuseAbi.FUSE_IOMAP_DEV_NULL)
        {
            return $"{half} type {m.Type} must have addr NULL and dev 0";
        }

        return null;
    }
}
