import { createContext, useContext, type ReactNode } from 'react';
import type { ApiClient } from './api/client';
import type { Platform } from './platform';

export interface AppServices {
  platform: Platform;
  client: ApiClient;
  /** The session token every request reads; updated on login and logout. */
  token: { current: string | null };
}

const ServicesContext = createContext<AppServices | null>(null);

export function ServicesProvider({ services, children }: { services: AppServices; children: ReactNode }) {
  return <ServicesContext.Provider value={services}>{children}</ServicesContext.Provider>;
}

export function useServices(): AppServices {
  const services = useContext(ServicesContext);
  if (!services) throw new Error('useServices outside ServicesProvider');
  return services;
}

export function useApi(): ApiClient {
  return useServices().client;
}
