namespace Safemount.Shared.Protocol;

/// <summary>A point on the monotonic clock (Environment.TickCount64, milliseconds) by which a wait must end.</summary>
public readonly struct Deadline
{
    private readonly long _atMs;

    private Deadline(long atMs) => _atMs = atMs;

    public static Deadline Infinite => new(long.MaxValue);

    public static Deadline After(TimeSpan timeout)
    {
        long ms = (long)Math.Ceiling(Math.Max(0, timeout.TotalMilliseconds));
        long now = Environment.TickCount64;
        return new(ms >= long.MaxValue - now ? long.MaxValue : now + ms);
    }

    public bool IsInfinite => _atMs == long.MaxValue;

    /// <summary>Milliseconds left for poll(2): −1 for infinite, else 0..int.MaxValue.</summary>
    public int RemainingMilliseconds
    {
        get
        {
            if (IsInfinite)
            {
                return -1;
            }

            long left = _atMs - Environment.TickCount64;
            return left <= 0 ? 0 : (int)Math.Min(left, int.MaxValue);
        }
    }

    public bool IsExpired => !IsInfinite && Environment.TickCount64 >= _atMs;
}
