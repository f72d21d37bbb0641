namespace Safemount.Ext4;

/// <summary>renameat2(2) flags (include/uapi/linux/fs.h).</summary>
[Flags]
public enum RenameFlags
{
    None = 0,

    /// <summary>RENAME_NOREPLACE: EEXIST when the target exists.</summary>
    NoReplace = 1,

    /// <summary>RENAME_EXCHANGE: swap source and target (both must exist).</summary>
    Exchange = 2,

    /// <summary>RENAME_WHITEOUT: leave a whiteout (a character device 0:0, mode 0) at the source name.</summary>
    Whiteout = 4,
}
