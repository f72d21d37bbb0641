namespace Safemount.Fuse;

/// <summary>Converts a cache timeout into the (seconds, nanoseconds) pair of entry_valid /
/// attr_valid fields. Negative timeouts mean "do not cache" (0, 0).</summary>
internal static class FuseTimeout
{
    public static (ulong Seconds, uint Nanoseconds) Split(TimeSpan timeout)
    {
        long ticks = timeout.Ticks;
        if (ticks <= 0)
        {
            return (0, 0);
        }

        // 1 tick = 100 ns.
        return ((ulong)(ticks / TimeSpan.TicksPerSecond), (uint)(ticks % TimeSpan.TicksPerSecond * 100));
    }
}
