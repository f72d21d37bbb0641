namespace Safemount.Ext4.Journal;

/// <summary>The three recovery passes over the log (fs/jbd2/recovery.c enum passtype).</summary>
internal enum JournalPass
{
    /// <summary>Find the end of the log: the first transaction without a valid commit block.</summary>
    Scan,

    /// <summary>Collect revoke records of the complete transactions.</summary>
    Revoke,

    /// <summary>Plan the writes of every tagged block that no later-or-equal transaction revoked.</summary>
    Replay,
}
