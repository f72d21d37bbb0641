namespace Safemount.Ext4.Allocation;

/// <summary>
/// Bit operations over an on-disk allocation bitmap (kernel: ext4_test_bit / ext4_set_bits /
/// mb_find_next_zero_bit, little-endian bit order: bit n is byte n/8, mask 1 &lt;&lt; (n%8)).
/// A set bit is an allocated block (cluster) or inode. Every range is [start, end) in bits and
/// callers keep end &lt;= 8 * span length; violating that is a programming error
/// (ArgumentOutOfRangeException), never a disk-input condition.
/// </summary>
internal static class Bitmap
{
    public static bool Test(ReadOnlySpan<byte> b, int bit) => (b[bit >> 3] & (1 << (bit & 7))) != 0;

    /// <summary>Sets bits [start, start+count).</summary>
    public static void Set(Span<byte> b, int start, int count) => Fill(b, start, count, true);

    /// <summary>Clears bits [start, start+count).</summary>
    public static void Clear(Span<byte> b, int start, int count) => Fill(b, start, count, false);

    /// <summary>True when every bit of [start, start+count) is set.</summary>
    public static bool AllSet(ReadOnlySpan<byte> b, int start, int count) =>
        FindFirst(b, start, start + count, value: false) < 0;

    /// <summary>True when every bit of [start, start+count) is clear.</summary>
    public static bool AllClear(ReadOnlySpan<byte> b, int start, int count) =>
        FindFirst(b, start, start + count, value: true) < 0;

    /// <summary>First clear bit in [from, end), or -1.</summary>
    public static int FindFirstZero(ReadOnlySpan<byte> b, int from, int end) => FindFirst(b, from, end, value: false);

    /// <summary>First set bit in [from, end), or -1.</summary>
    public static int FindFirstOne(ReadOnlySpan<byte> b, int from, int end) => FindFirst(b, from, end, value: true);

    /// <summary>Number of clear bits in [0, end).</summary>
    public static int CountZeros(ReadOnlySpan<byte> b, int end)
    {
        CheckRange(b, 0, end);
        int ones = 0;
        int whole = end >> 3;
        foreach (byte x in b[..whole])
        {
            ones += System.Numerics.BitOperations.PopCount(x);
        }

        for (int bit = whole << 3; bit < end; bit++)
        {
            ones += Test(b, bit) ? 1 : 0;
        }

        return end - ones;
    }

    /// <summary>
    /// A run of clear bits for an allocation of up to <paramref name="wanted"/> bits in
    /// [0, end), near <paramref name="goal"/> (a simplified ext4_mb_regular_allocator over one
    /// group): (1) if the goal bit is clear, the run starting there, as long as it is clear and
    /// at most <paramref name="wanted"/>; (2) else the first run of at least
    /// <paramref name="wanted"/> clear bits found scanning from the goal to the end and then
    /// from 0 to the goal; (3) else the longest run (the first of equal length in that scan
    /// order), cut to <paramref name="wanted"/>. Returns (-1, 0) when no bit is clear.
    /// </summary>
    public static (int Start, int Length) FindFreeRun(ReadOnlySpan<byte> b, int goal, int end, int wanted)
    {
        CheckRange(b, 0, end);
        ArgumentOutOfRangeException.ThrowIfLessThan(wanted, 1);
        if (end == 0)
        {
            return (-1, 0);
        }

        goal = goal < 0 || goal >= end ? 0 : goal;
        if (!Test(b, goal))
        {
            return (goal, RunLength(b, goal, end, wanted, value: false));
        }

        int bestStart = -1, bestLength = 0;
        foreach (var (from, to) in new[] { (goal, end), (0, goal) })
        {
            int at = from;
            while (at < to)
            {
                int start = FindFirst(b, at, to, value: false);
                if (start < 0)
                {
                    break;
                }

                int length = RunLength(b, start, to, wanted, value: false);
                if (length >= wanted)
                {
                    return (start, wanted);
                }

                if (length > bestLength)
                {
                    bestStart = start;
                    bestLength = length;
                }

                at = start + length;
            }
        }

        return (bestStart, bestLength);
    }

    /// <summary>Length of the run of bits equal to <paramref name="value"/> from <paramref name="start"/>, at most <paramref name="max"/> and not past <paramref name="end"/>.</summary>
    public static int RunLength(ReadOnlySpan<byte> b, int start, int end, int max, bool value)
    {
        int limit = (int)Math.Min((long)end, (long)start + max);
        int other = FindFirst(b, start, limit, !value);
        return (other < 0 ? limit : other) - start;
    }

    private static int FindFirst(ReadOnlySpan<byte> b, int from, int end, bool value)
    {
        CheckRange(b, from, end);
        int bit = from;
        while (bit < end)
        {
            if ((bit & 7) == 0 && end - bit >= 8)
            {
                // Whole bytes: skip those with no bit equal to the value.
                int i = bit >> 3;
                int lastWhole = end >> 3;
                var rest = b[i..lastWhole];
                int hit = value ? rest.IndexOfAnyExcept((byte)0) : rest.IndexOfAnyExcept((byte)0xFF);
                if (hit < 0)
                {
                    bit = lastWhole << 3;
                    continue;
                }

                bit = (i + hit) << 3;
            }

            if (Test(b, bit) == value)
            {
                return bit;
            }

            bit++;
        }

        return -1;
    }

    private static void Fill(Span<byte> b, int start, int count, bool value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        CheckRange(b, start, start + count);
        int bit = start;
        int end = start + count;
        while (bit < end && (bit & 7) != 0)
        {
            SetBit(b, bit++, value);
        }

        int bytes = (end - bit) >> 3;
        b.Slice(bit >> 3, bytes).Fill(value ? (byte)0xFF : (byte)0);
        bit += bytes << 3;
        while (bit < end)
        {
            SetBit(b, bit++, value);
        }
    }

    private static void SetBit(Span<byte> b, int bit, bool value)
    {
        if (value)
        {
            b[bit >> 3] |= (byte)(1 << (bit & 7));
        }
        else
        {
            b[bit >> 3] &= (byte)~(1 << (bit & 7));
        }
    }

    private static void CheckRange(ReadOnlySpan<byte> b, int from, int end)
    {
        if (from < 0 || end < from || end > b.Length * 8L)
        {
            throw new ArgumentOutOfRangeException(nameof(end), $"bit range [{from}, {end}) outside a bitmap of {b.Length * 8L} bits");
        }
    }
}
