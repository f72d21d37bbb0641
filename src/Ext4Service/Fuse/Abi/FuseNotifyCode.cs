namespace Safemount.Fuse.Abi;

/// <summary>enum fuse_notify_code (fuse_kernel.h, protocol 7.45): the positive code a
/// notification carries in fuse_out_header.error, with unique 0 (FUSE-PROTOCOL.md §1.5).</summary>
internal enum FuseNotifyCode
{
    FUSE_NOTIFY_POLL = 1,
    FUSE_NOTIFY_INVAL_INODE = 2,
    FUSE_NOTIFY_INVAL_ENTRY = 3,
    FUSE_NOTIFY_STORE = 4,
    FUSE_NOTIFY_RETRIEVE = 5,
    FUSE_NOTIFY_DELETE = 6,
    FUSE_NOTIFY_RESEND = 7,
    FUSE_NOTIFY_INC_EPOCH = 8,
    FUSE_NOTIFY_PRUNE = 9,

    /// <summary>fuse-iomap v7: fuse_iomap_dev_inval_out (§2.5).</summary>
    FUSE_NOTIFY_IOMAP_DEV_INVAL = 99,

    /// <summary>fuse-iomap v7: fuse_iomap_upsert_mappings_out (§2.5).</summary>
    FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS = 100,

    /// <summary>fuse-iomap v7: fuse_iomap_inval_mappings_out (§2.5).</summary>
    FUSE_NOTIFY_IOMAP_INVAL_MAPPINGS = 101,
}
