namespace Safemount.Ext4.Tests.Crash;

/// <summary>
/// One large protected file grown in 64 KiB-256 KiB appends with a sync every other append,
/// then rewritten in place at random ranges, truncated down (its blocks, and extent-tree
/// blocks, freed) and extended again (freed blocks reused), syncing now and then; beside it an
/// unprotected scratch file is written, punched by truncation and replaced, so allocations of
/// the two interleave.
/// </summary>
internal sealed class LargeFileWorkload(int maxBytes) : CrashWorkload
{
    public override string Name => "large-file";

    public override void Run(WorkloadDriver d)
    {
        const string Big = "/big";
        const string Scratch = "/scratch";
        d.Create(Big, protect: true);
        d.Sync();
        int size = 0;
        for (int round = 0; size < maxBytes / 2; round++)
        {
            int n = d.Rng.Next(64 << 10, 256 << 10);
            d.Fill(Big, size, n);
            size += n;
            if (round % 2 == 1)
            {
                d.Sync();
            }
        }

        d.Sync();
        for (int step = 0; step < 40; step++)
        {
            int op = d.Rng.Next(10);
            size = d.Model.Durable(Big)!.Current.Length;
            if (op < 4)
            {
                int offset = d.Rng.Next(0, Math.Max(1, size));
                d.Fill(Big, offset, Math.Max(1, Math.Min(d.Rng.Next(1, 96 << 10), maxBytes - offset)));
            }
            else if (op < 6)
            {
                d.Fill(Big, size, Math.Min(d.Rng.Next(1, 128 << 10), Math.Max(1, maxBytes - size)));
            }
            else if (op < 7)
            {
                d.Truncate(Big, d.Rng.Next(size / 4, Math.Max(size / 4 + 1, size)));
            }
            else if (!d.Exists(Scratch))
            {
                d.Create(Scratch);
                d.Fill(Scratch, 0, d.Rng.Next(1, 300 << 10));
            }
            else if (op < 9)
            {
                d.Truncate(Scratch, d.Rng.Next(0, 100 << 10));
                d.Fill(Scratch, d.Rng.Next(0, 200 << 10), d.Rng.Next(1, 64 << 10));
            }
            else
            {
                d.Unlink(Scratch);
            }

            if (d.Rng.Next(3) == 0)
            {
                d.Sync();
            }
        }

        // Unsynced tail.
        d.Fill(Big, d.Rng.Next(0, d.Model.Durable(Big)!.Current.Length), 50_000);
        d.Fill(Big, d.Model.Durable(Big)!.Current.Length, 70_000);
    }
}
