namespace Safemount.Ext4;

/// <summary>The volume was shut down after an error under errors=panic (maps to EIO, as the kernel's EXT4_FLAGS_SHUTDOWN).</summary>
public sealed class Ext4ShutDownException : Exception
{
    public Ext4ShutDownException(string message) : base(message) { }
}
