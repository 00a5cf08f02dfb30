import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createApiClient } from './api/client';
import { errorCode } from './api/errors';
import { App } from './App';
import { ToastProvider } from './components/Toasts';
import { ServicesProvider, type AppServices } from './context';
import { detectPlatform } from './platform';
import { SessionProvider } from './session';
import './styles.css';

/** Retries only what may succeed a moment later (network, server hiccup), never a refusal. */
function shouldRetry(failureCount: number, error: unknown): boolean {
  const code = errorCode(error);
  return failureCount < 2 && (code === 'NETWORK' || code === 'INTERNAL_SERVER_ERROR' || code === 'UNKNOWN');
}

async function start() {
  const platform = detectPlatform();
  const [baseUrl, token] = await Promise.all([platform.apiBaseUrl(), platform.getToken().catch(() => null)]);
  const tokenRef = { current: token };
  const services: AppServices = { platform, token: tokenRef, client: createApiClient({ baseUrl, getToken: () => tokenRef.current }) };
  const queryClient = new QueryClient({
    defaultOptions: {
      queries: { retry: shouldRetry, staleTime: 10_000, refetchOnWindowFocus: true },
      mutations: { retry: false },
    },
  });
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <QueryClientProvider client={queryClient}>
        <ServicesProvider services={services}>
          <ToastProvider>
            <SessionProvider>
              <App />
            </SessionProvider>
          </ToastProvider>
        </ServicesProvider>
      </QueryClientProvider>
    </StrictMode>,
  );
}

void start();
