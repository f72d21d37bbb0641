using Safemount.Fuse.Abi;
using Safemount.Shared.Interop;

namespace Safemount.Fuse;

/// <summary>
/// fuse-iomap v7 notifications (FUSE-PROTOCOL.md §2.5, §2.7): push mappings into the kernel's
/// per-inode cache, drop them, and drop block-device page cache over freed blocks. Each returns
/// ENOSYS unless FUSE_IOMAP was negotiated, ENODEV before INIT or after the session ended, and
/// otherwise the kernel's answer (ESTALE: node not cached; EINVAL: attr_ino mismatch or a
/// mapping the kernel declines to cache — not corruption, §2.8). Same threading and deadlock
/// rules as the mainline notifications.
/// </summary>
public sealed partial class FuseSession : IFuseIomapNotifier
{
    /// <summary>FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS: cache <paramref name="read"/> and
    /// <paramref name="write"/> (type NOCACHE skips a half) for node <paramref name="nodeId"/>.
    /// Each half is first checked as the kernel checks it (fuse_iomap_upsert_validate_mapping:
    /// the BEGIN rules of §2.7 without the pos test; NOCACHE only without a device): EINVAL
    /// without writing anything for one that fails, or before IOMAP_CONFIG registered a device,
    /// since the kernel would answer EFSCORRUPTED.</summary>
    public Errno NotifyIomapUpsertMappings(ulong nodeId, ulong attrIno, in FuseIomapMapping read, in FuseIomapMapping write)
    {
        if (!this.IomapNegotiated(out Errno refusal))
        {
            return refusal;
        }

        FuseIomapDeviceRegistry? devices = this.iomapDevices;
        if (devices is null)
        {
            return Errno.EINVAL;
        }

        string? problem = CheckUpsertHalf(read, writeHalf: false, this.iomapBlockSize, devices)
            ?? CheckUpsertHalf(write, writeHalf: true, this.iomapBlockSize, devices);
        if (problem is not null)
        {
            FuseLog.IomapUpsertInvalid(this.logger, nodeId, read.Offset, problem);
            return Errno.EINVAL;
        }

        var payload = new FuseIomapUpsertMappingsOut { Nodeid = nodeId, AttrIno = attrIno, Read = read.ToWire(), Write = write.ToWire() };
        return this.SendNotification(FuseNotifyCode.FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS, payload, default);
    }

    /// <summary>FUSE_NOTIFY_IOMAP_INVAL_MAPPINGS: drop cached mappings of node
    /// <paramref name="nodeId"/> over file bytes [<paramref name="offset"/>, +<paramref name="length"/>)
    /// in both forks (<see cref="FuseAbi.FUSE_IOMAP_INVAL_TO_EOF"/> = to the end).</summary>
    public Errno NotifyIomapInvalMappings(ulong nodeId, ulong attrIno, ulong offset, ulong length)
    {
        if (!this.IomapNegotiated(out Errno refusal))
        {
            return refusal;
        }

        var range = new FuseRange { Offset = offset, Length = length };
        var payload = new FuseIomapInvalMappingsOut { Nodeid = nodeId, AttrIno = attrIno, Read = range, Write = range };
        return this.SendNotification(FuseNotifyCode.FUSE_NOTIFY_IOMAP_INVAL_MAPPINGS, payload, default);
    }

    /// <summary>FUSE_NOTIFY_IOMAP_DEV_INVAL: drop the page cache of backing device
    /// <paramref name="backingId"/> over device bytes [<paramref name="offset"/>, +<paramref name="length"/>),
    /// so stale bdev pages cannot be written back over reused blocks (§2.8).</summary>
    public Errno NotifyIomapDevInval(uint backingId, ulong offset, ulong length)
    {
        if (!this.IomapNegotiated(out Errno refusal))
        {
            return refusal;
        }

        var payload = new FuseIomapDevInvalOut { Dev = backingId, Range = new FuseRange { Offset = offset, Length = length } };
        return this.SendNotification(FuseNotifyCode.FUSE_NOTIFY_IOMAP_DEV_INVAL, payload, default);
    }

    /// <summary>One UPSERT half: NOCACHE (ignored by the kernel) must still name no device;
    /// anything else is checked as a BEGIN half that contains its own first byte.</summary>
    private static string? CheckUpsertHalf(in FuseIomapMapping m, bool writeHalf, uint blockSize, FuseIomapDeviceRegistry devices)
    {
        if (m.Type == FuseIomapType.FUSE_IOMAP_TYPE_NOCACHE)
        {
            return m.Addr == FuseAbi.FUSE_IOMAP_NULL_ADDR && m.Dev == FuseAbi.FUSE_IOMAP_DEV_NULL ? null : "NOCACHE half with a device";
        }

        return CheckMapping(m, m.Offset, writeHalf, blockSize, devices);
    }

    private bool IomapNegotiated(out Errno refusal)
    {
        refusal = !this.initialized || this.stopping ? Errno.ENODEV : this.initResult.Iomap ? Errno.None : Errno.ENOSYS;
        return refusal == Errno.None;
    }
}
