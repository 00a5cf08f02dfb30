import { useCallback, useState } from 'react';
import type { OrderExportInput } from '@orders/shared';
import { describeError } from '../../api/errors';
import { useToast } from '../../components/Toasts';
import { useApi, useServices } from '../../context';

export function exportFileName(now = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `orders-${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}.csv`;
}

/**
 * Streams `backoffice.orders.exportCsv` (a filter, or chosen ids) into a file the user picks; in a
 * browser a filter's export is a plain download instead (Platform.downloadCsv).
 */
export function useCsvExport() {
  const api = useApi();
  const { platform } = useServices();
  const toast = useToast();
  const [exporting, setExporting] = useState(false);
  const start = useCallback(
    async (input: OrderExportInput) => {
      if (exporting) return;
      // A filter's export in a browser streams to disk as a plain download; a selection (ids) is small.
      if (platform.downloadCsv && !input.ids?.length) {
        platform.downloadCsv(input);
        toast.show('success', "Export started: the file arrives in your browser's downloads");
        return;
      }
      setExporting(true);
      try {
        const chunks = await api.backoffice.orders.exportCsv.query(input);
        const outcome = await platform.saveCsv(exportFileName(), chunks);
        if (outcome.saved) toast.show('success', `Exported ${(outcome.bytes / 1024).toFixed(outcome.bytes < 10_240 ? 1 : 0)} KB to ${outcome.location}`);
      } catch (error) {
        toast.show('error', `Export failed: ${describeError(error)}`);
      } finally {
        setExporting(false);
      }
    },
    [api, exporting, platform, toast],
  );
  return { exporting, start };
}
