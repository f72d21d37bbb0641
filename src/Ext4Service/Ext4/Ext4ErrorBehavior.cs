namespace Safemount.Ext4;

/// <summary>What the volume does after recording an error (errors= / s_errors, kernel: ext4_handle_error).</summary>
public enum Ext4ErrorBehavior
{
    /// <summary>errors=continue (EXT4_ERRORS_CONTINUE, the mkfs default): record the error and go on.</summary>
    Continue = 1,

    /// <summary>errors=remount-ro (EXT4_ERRORS_RO): record it and refuse every later change (EROFS).</summary>
    RemountReadOnly = 2,

    /// <summary>
    /// errors=panic (EXT4_ERRORS_PANIC): a userspace service cannot and must not panic the kernel;
    /// the volume records the error and shuts down: every later operation fails with EIO.
    /// </summary>
    Panic = 3,
}
