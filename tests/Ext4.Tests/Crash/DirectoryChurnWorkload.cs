namespace Safemount.Ext4.Tests.Crash;

/// <summary>
/// Directory metadata under churn: a directory grown to a few hundred long names (several
/// blocks, an htree index), most of them removed, subdirectories created with a few files and
/// removed again, the big directory emptied and removed (its blocks freed), then a second big
/// directory and new files created, reusing the freed metadata blocks — the case for revoke
/// records and for not reusing a block before the transaction that freed it has committed.
/// Protected files in /keep are created and synced throughout.
/// </summary>
internal sealed class DirectoryChurnWorkload(int names) : CrashWorkload
{
    public override string Name => "dir-churn";

    public override void Run(WorkloadDriver d)
    {
        d.Mkdir("/keep");
        d.Mkdir("/h");
        d.Sync();
        int kept = 0;
        void Keep()
        {
            string path = $"/keep/k{kept++}";
            d.Create(path, protect: true);
            d.Fill(path, 0, d.Rng.Next(1, 6000));
            d.Sync();
        }

        var inH = new List<string>();
        for (int i = 0; i < names; i++)
        {
            string path = $"/h/entry-with-a-longish-name-number-{i:D5}";
            d.Create(path);
            if (d.Rng.Next(4) == 0)
            {
                d.Fill(path, 0, d.Rng.Next(1, 3000));
            }

            inH.Add(path);
            if (i % 60 == 59)
            {
                Keep();
            }
        }

        d.Sync();
        d.Rng.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(inH));
        for (int i = 0; i < inH.Count; i++)
        {
            if (i % 5 == 0)
            {
                // Subdirectories come and go: each mkdir allocates a block, each rmdir frees it.
                string sub = $"/h/sub{i}";
                d.Mkdir(sub);
                d.Create($"{sub}/x");
                d.Fill($"{sub}/x", 0, d.Rng.Next(1, 5000));
                if (d.Rng.Next(2) == 0)
                {
                    d.Sync();
                }

                d.Unlink($"{sub}/x");
                d.Rmdir(sub);
            }

            d.Unlink(inH[i]);
            if (i % 70 == 69)
            {
                Keep();
            }
        }

        d.Rmdir("/h");
        d.Sync();

        // New metadata where the old directory's blocks were.
        d.Mkdir("/g");
        for (int i = 0; i < names / 2; i++)
        {
            string path = $"/g/another-fairly-long-entry-name-{i:D5}";
            d.Create(path);
            if (d.Rng.Next(3) == 0)
            {
                d.Fill(path, 0, d.Rng.Next(1, 8000));
            }

            if (i % 50 == 49)
            {
                Keep();
            }
        }

        // Unsynced tail: renames within and out of /g.
        for (int i = 0; i < 20; i++)
        {
            d.Rename($"/g/another-fairly-long-entry-name-{i:D5}", $"/g/renamed-{i}");
        }
    }
}
