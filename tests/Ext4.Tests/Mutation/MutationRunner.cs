using System.Diagnostics;

namespace Safemount.Ext4.Tests.Mutation;

/// <summary>
/// Runs mutation jobs on one worker thread per core. Each image is walked under a time bound
/// (a watchdog on the calling thread; a walk longer than <see cref="TimeBound"/> is a failure
/// naming the job, and the stuck background thread is abandoned) and an allocation bound (the
/// worker's GC.GetAllocatedBytesForCurrentThread delta). Outcomes are tallied; failures carry
/// the job name and its edit log so they reproduce.
/// </summary>
internal static class MutationRunner
{
    /// <summary>A walk takes milliseconds; this bound only has to catch a loop without end, on a busy 2-core machine.</summary>
    public static readonly TimeSpan TimeBound = TimeSpan.FromSeconds(10);

    /// <summary>Bytes one image's walk may allocate (the tree itself needs well under 10 MiB).</summary>
    public const long AllocationBound = 256L << 20;

    public static MutationTally Run(IReadOnlyList<MutationJob> jobs)
    {
        var tally = new MutationTally();
        int next = -1;
        int workers = Math.Max(1, Environment.ProcessorCount);
        var current = new (MutationJob? Job, long Start)[workers];
        var threads = new Thread[workers];
        var sw = Stopwatch.StartNew();
        for (int w = 0; w < workers; w++)
        {
            int id = w;
            threads[w] = new Thread(() =>
            {
                var buffer = new byte[64 * 1024];
                int i;
                while ((i = Interlocked.Increment(ref next)) < jobs.Count && !tally.Stopped)
                {
                    var job = jobs[i];
                    MutatedImage img;
                    string strategy;
                    try
                    {
                        img = job.Make(out strategy);
                    }
                    catch (Exception e)
                    {
                        tally.Fail(job, "(harness)", $"building the image failed: {e}", []);
                        continue;
                    }

                    current[id].Job = job; // before Start: the watchdog reads Start, then Job
                    Volatile.Write(ref current[id].Start, Stopwatch.GetTimestamp());
                    long before = GC.GetAllocatedBytesForCurrentThread();
                    long started = Stopwatch.GetTimestamp();
                    var result = TreeWalker.Walk(img, buffer, img.Base.InodesCount);
                    var walk = Stopwatch.GetElapsedTime(started);
                    long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                    Volatile.Write(ref current[id].Start, 0);
                    if (result.Unexpected != null)
                    {
                        tally.Fail(job, strategy, result.Unexpected, img.Log);
                    }
                    else if (allocated > AllocationBound)
                    {
                        tally.Fail(job, strategy, $"the walk allocated {allocated} bytes (bound {AllocationBound})", img.Log);
                    }
                    else
                    {
                        tally.Add(job, strategy, result, allocated, walk);
                    }
                }
            })
            { IsBackground = true, Name = $"mutation-{w}" };
            threads[w].Start();
        }

        while (threads.Any(t => t.IsAlive))
        {
            Thread.Sleep(50);
            long now = Stopwatch.GetTimestamp();
            for (int w = 0; w < workers; w++)
            {
                long start = Volatile.Read(ref current[w].Start);
                if (start != 0 && Stopwatch.GetElapsedTime(start, now) > TimeBound && current[w].Job is { } job)
                {
                    tally.Fail(job, "(walk)", $"the walk did not finish within {TimeBound.TotalSeconds} s (engine loop?)", []);
                    tally.Stop();
                    tally.Elapsed = sw.Elapsed;
                    return tally; // the stuck thread is a background thread; the test fails on this record
                }
            }
        }

        tally.Elapsed = sw.Elapsed;
        return tally;
    }
}
