namespace Safemount.Ext4.Tests.Crash;

/// <summary>
/// More metadata than the log holds between two syncs: thousands of files created across
/// directories (inode tables of every group, bitmaps, directory blocks) with no sync, which the
/// engine must commit in pieces on its own (jbd2 caps a transaction at a quarter of the log,
/// j_max_transaction_buffers), then protected files created and synced.
/// </summary>
internal sealed class BulkWorkload(int files) : CrashWorkload
{
    public override string Name => "bulk";

    public override void Run(WorkloadDriver d)
    {
        d.Create("/first", protect: true);
        d.Fill("/first", 0, 3000);
        d.Sync();
        for (int dir = 0; dir < 16; dir++)
        {
            d.Mkdir($"/b{dir}");
        }

        for (int i = 0; i < files; i++)
        {
            string path = $"/b{i % 16}/file-{i}";
            d.Create(path);
            if (i % 7 == 0)
            {
                d.Fill(path, 0, d.Rng.Next(1, 2000));
            }
        }

        d.Sync();
        for (int i = 0; i < 5; i++)
        {
            string path = $"/after{i}";
            d.Create(path, protect: true);
            d.Fill(path, 0, d.Rng.Next(1, 9000));
            d.Unlink($"/b{i}/file-{i}");
            d.Sync();
        }
    }
}
