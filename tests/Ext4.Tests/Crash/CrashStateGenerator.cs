namespace Safemount.Ext4.Tests.Crash;

/// <summary>
/// Derives crash states from a device log. The log splits at its flushes into segments of
/// unflushed writes; a state keeps every segment before a chosen one and lets the device have
/// persisted any part of the chosen one:
///   (a) a cut at every flush: everything up to and including the flush, nothing after;
///   (b) random states (deterministic per seed and state index): a random segment, then either
///       a prefix of its writes in issue order (an in-order device losing power), or a random
///       subset in random order (a reordering cache; overlapping writes may land in either
///       order), each multi-block write of the subset torn with probability 1/3: only a random
///       subset of its file-system-block pieces persisted. Tearing is at file-system-block
///       granularity, not 512-byte sectors: a block is the unit the engine writes and checksums.
/// Applying overlapping writes out of order never shows a block content the device could not
/// hold: each block ends up as it was after one of the writes that covered it (a volatile
/// cache may have written back the older one before the newer arrived), or as before them all.
/// </summary>
internal static class CrashStateGenerator
{
    /// <summary><see cref="CrashState.Kind"/> of the cuts at flushes.</summary>
    public const string FlushCut = "cut at flush";

    public static List<CrashState> Generate(IReadOnlyList<DeviceEvent> log, int blockSize, int seed, int randomStates)
    {
        var flushes = new List<int>();
        for (int i = 0; i < log.Count; i++)
        {
            if (log[i].IsFlush)
            {
                flushes.Add(i);
            }
        }

        var states = new List<CrashState>();
        foreach (int f in flushes)
        {
            states.Add(new CrashState(seed, states.Count, FlushCut, f + 1, f + 1, []));
        }

        // Segments [start, end) of writes between flushes (the last one ends at the log's end).
        var segments = new List<(int Start, int End)>();
        int begin = 0;
        foreach (int f in flushes.Append(log.Count))
        {
            if (f > begin)
            {
                segments.Add((begin, f));
            }

            begin = f + 1;
        }

        if (segments.Count == 0)
        {
            return states;
        }

        for (int r = 0; r < randomStates; r++)
        {
            int index = states.Count;
            // Not HashCode.Combine: it is randomized per process, and a state must be rebuilt from (seed, index).
            var rng = new Random(unchecked((seed * 1_000_003) + index) & int.MaxValue);
            var (start, end) = segments[rng.Next(segments.Count)];
            var writes = Enumerable.Range(start, end - start).ToList();
            if (rng.Next(3) == 0)
            {
                int n = rng.Next(writes.Count + 1);
                states.Add(new CrashState(seed, index, "in-order prefix", start, end, [.. writes.Take(n).Select(w => new PendingWrite(w, null))]));
                continue;
            }

            double keep = rng.NextDouble();
            var chosen = writes.Where(_ => rng.NextDouble() < keep).ToArray();
            rng.Shuffle(chosen);
            var pending = new List<PendingWrite>(chosen.Length);
            foreach (int w in chosen)
            {
                int pieces = CrashState.Split(log[w].Offset, log[w].Data!.Length, blockSize).Count;
                if (pieces > 1 && rng.Next(3) == 0)
                {
                    pending.Add(new PendingWrite(w, [.. Enumerable.Range(0, pieces).Where(_ => rng.Next(2) == 0)]));
                }
                else
                {
                    pending.Add(new PendingWrite(w, null));
                }
            }

            states.Add(new CrashState(seed, index, "reordered subset, torn", start, end, pending));
        }

        return states;
    }
}
