namespace Safemount.Ext4;

/// <summary>What a run of logical file blocks maps to.</summary>
internal enum BlockRunKind
{
    /// <summary>Allocated and initialized: read from <see cref="BlockRun.Physical"/>.</summary>
    Mapped,

    /// <summary>Allocated but unwritten (uninitialized extent): reads as zeros.</summary>
    Unwritten,

    /// <summary>Not allocated: reads as zeros.</summary>
    Hole,
}

/// <summary>
/// A run of <see cref="Length"/> (>= 1) logical blocks starting at the block asked for; when
/// <see cref="Kind"/> is Mapped they are physically contiguous from <see cref="Physical"/>.
/// </summary>
internal readonly record struct BlockRun(BlockRunKind Kind, ulong Physical, uint Length);
