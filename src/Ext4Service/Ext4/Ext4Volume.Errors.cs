using System.Buffers.Binary;
using System.Text;
using SL = Safemount.Ext4.Format.SuperblockLayout;

namespace Safemount.Ext4;

/// <summary>
/// Run-time error recording (kernel: __ext4_error, save_error_info, ext4_handle_error). On a
/// read-write volume an error found while serving is stamped into the superblock at once
/// (s_state |= EXT4_ERROR_FS, s_error_count, s_first_error_* once, s_last_error_* every time),
/// then <see cref="ErrorBehavior"/> decides: continue, refuse further changes, or shut down.
/// A read-only volume records nothing (the kernel only logs on a read-only mount).
/// </summary>
public sealed partial class Ext4Volume
{
    private const int ErrorStateNone = 0;
    private const int ErrorStateReadOnly = 1;
    private const int ErrorStateShutDown = 2;

    /// <summary>ErrorStateNone, ErrorStateReadOnly or ErrorStateShutDown; only ever increases.</summary>
    private int _errorState;

    /// <summary>errors= from the open options, else s_errors (EXT4_ERRORS_CONTINUE when unset or unknown, as the kernel's default).</summary>
    public Ext4ErrorBehavior ErrorBehavior { get; private set; } = Ext4ErrorBehavior.Continue;

    /// <summary>True after an error under errors=panic: every operation fails with <see cref="Ext4ShutDownException"/>.</summary>
    public bool IsShutDown => Volatile.Read(ref _errorState) == ErrorStateShutDown;

    /// <summary>
    /// Records <paramref name="error"/> (found in <paramref name="function"/>, about inode
    /// <paramref name="ino"/> and block <paramref name="block"/>, 0 when unknown) and applies
    /// <see cref="ErrorBehavior"/>. Returns false when nothing could be recorded (read-only volume,
    /// or the superblock write itself failed). Never throws.
    /// </summary>
    public bool ReportError(Exception error, string function, uint ino = 0, ulong block = 0)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (_openedReadOnly || _writable is null)
        {
            return false;
        }

        bool recorded;
        try
        {
            lock (_syncLock)
            {
                var (now, _) = Now();
                byte code = error switch
                {
                    Ext4ChecksumException => SL.EXT4_ERR_EFSBADCRC,
                    Ext4CorruptionException => SL.EXT4_ERR_EFSCORRUPTED,
                    Ext4IOException => SL.EXT4_ERR_EIO,
                    _ => SL.EXT4_ERR_UNKNOWN,
                };
                EditSuperblock(sb => StampError(sb, now, function, ino, block, code));
                WriteSuperblockBlockNow();
            }

            recorded = true;
        }
        catch (Ext4IOException)
        {
            recorded = false;
        }

        int next = ErrorBehavior switch
        {
            Ext4ErrorBehavior.RemountReadOnly => ErrorStateReadOnly,
            Ext4ErrorBehavior.Panic => ErrorStateShutDown,
            _ => ErrorStateNone,
        };
        int current;
        do
        {
            current = Volatile.Read(ref _errorState);
        }
        while (next > current && Interlocked.CompareExchange(ref _errorState, next, current) != current);

        return recorded;
    }

    /// <summary>Throws <see cref="Ext4ShutDownException"/> once errors=panic has shut the volume down.</summary>
    internal void ThrowIfShutDown()
    {
        if (IsShutDown)
        {
            throw new Ext4ShutDownException("the file system was shut down after an error (errors=panic)");
        }
    }

    /// <summary>The error behaviour s_errors asks for.</summary>
    private static Ext4ErrorBehavior ErrorBehaviorOf(ReadOnlySpan<byte> superblock) =>
        BinaryPrimitives.ReadUInt16LittleEndian(superblock[SL.s_errors..]) switch
        {
            SL.EXT4_ERRORS_RO => Ext4ErrorBehavior.RemountReadOnly,
            SL.EXT4_ERRORS_PANIC => Ext4ErrorBehavior.Panic,
            _ => Ext4ErrorBehavior.Continue,
        };

    private static void StampError(Span<byte> sb, long now, string function, uint ino, ulong block, byte code)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(sb[SL.s_state..], (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(sb[SL.s_state..]) | SL.EXT4_ERROR_FS));
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(sb[SL.s_error_count..]);
        BinaryPrimitives.WriteUInt32LittleEndian(sb[SL.s_error_count..], count == uint.MaxValue ? count : count + 1);
        if (BinaryPrimitives.ReadUInt32LittleEndian(sb[SL.s_first_error_time..]) == 0 && sb[SL.s_first_error_time_hi] == 0)
        {
            WriteTime(sb, SL.s_first_error_time, SL.s_first_error_time_hi, now);
            BinaryPrimitives.WriteUInt32LittleEndian(sb[SL.s_first_error_ino..], ino);
            BinaryPrimitives.WriteUInt64LittleEndian(sb[SL.s_first_error_block..], block);
            WriteFunction(sb.Slice(SL.s_first_error_func, SL.ErrorFuncSize), function);
            BinaryPrimitives.WriteUInt32LittleEndian(sb[SL.s_first_error_line..], 0);
            sb[SL.s_first_error_errcode] = code;
        }

        WriteTime(sb, SL.s_last_error_time, SL.s_last_error_time_hi, now);
        BinaryPrimitives.WriteUInt32LittleEndian(sb[SL.s_last_error_ino..], ino);
        BinaryPrimitives.WriteUInt64LittleEndian(sb[SL.s_last_error_block..], block);
        WriteFunction(sb.Slice(SL.s_last_error_func, SL.ErrorFuncSize), function);
        BinaryPrimitives.WriteUInt32LittleEndian(sb[SL.s_last_error_line..], 0);
        sb[SL.s_last_error_errcode] = code;
    }

    /// <summary>The function name, ASCII, NUL-padded, cut to the field (the kernel's strscpy of __func__).</summary>
    private static void WriteFunction(Span<byte> field, string function)
    {
        field.Clear();
        Encoding.ASCII.GetBytes(function.AsSpan(0, Math.Min(function.Length, field.Length - 1)), field);
    }
}
