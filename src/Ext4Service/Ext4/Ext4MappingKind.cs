namespace Safemount.Ext4;

/// <summary>What a range of a file's bytes is backed by, as iomap asks it (IOMAP_HOLE,
/// IOMAP_MAPPED, IOMAP_UNWRITTEN, IOMAP_INLINE of include/linux/iomap.h).</summary>
public enum Ext4MappingKind
{
    /// <summary>No blocks: reads as zeros.</summary>
    Hole,

    /// <summary>Allocated and written blocks at <see cref="Ext4Mapping.DeviceOffset"/>.</summary>
    Mapped,

    /// <summary>Allocated blocks of an uninitialized extent: read as zeros until converted.</summary>
    Unwritten,

    /// <summary>The bytes live in the inode (inline_data): no device address.</summary>
    Inline,
}
