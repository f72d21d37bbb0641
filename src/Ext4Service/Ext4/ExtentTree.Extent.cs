namespace Safemount.Ext4;

internal static partial class ExtentTree
{
    /// <summary>Largest ee_len of an initialized extent (EXT_INIT_MAX_LEN).</summary>
    public const uint MaxInitLength = 32768;

    /// <summary>Largest length of an unwritten extent (EXT_UNWRITTEN_MAX_LEN: ee_len - 32768 must fit 1..32767).</summary>
    public const uint MaxUnwrittenLength = 32767;

    /// <summary>Largest physical block an extent can address (48 bits: ee_start_hi:ee_start_lo).</summary>
    public const ulong MaxPhysical = (1UL << 48) - 1;

    /// <summary>
    /// One leaf entry, decoded (struct ext4_extent): logical blocks [Logical, Logical+Length)
    /// map to physical [Physical, Physical+Length). Length is 1..32768 written, 1..32767 unwritten.
    /// </summary>
    public readonly record struct Extent(uint Logical, uint Length, ulong Physical, bool Unwritten)
    {
        /// <summary>Exclusive logical end (up to 2^32).</summary>
        public ulong End => (ulong)Logical + Length;

        /// <summary>The largest length an extent of this written state may have.</summary>
        public uint MaxLength => Unwritten ? MaxUnwrittenLength : MaxInitLength;

        /// <summary>ext4_can_extents_be_merged: b directly follows this one logically and physically, same state, and the sum fits.</summary>
        public bool CanAppend(Extent b) =>
            Unwritten == b.Unwritten && End == b.Logical && Physical + Length == b.Physical
            && (ulong)Length + b.Length <= MaxLength;
    }
}
