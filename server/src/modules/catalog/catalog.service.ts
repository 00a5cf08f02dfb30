import type { MikroORM } from '@mikro-orm/postgresql';
import type { Currency } from '@orders/shared';
import { newId } from '../../db/base.entity.js';
import { firstRow, iso, sql } from '../../db/sql.js';

export interface ProductDto {
  id: string;
  sku: string;
  name: string;
  unitPrice: number;
  currency: Currency;
  stock: number;
  updatedAt: string;
}

export interface UpsertProduct {
  sku: string;
  name: string;
  unitPrice: number;
  currency: Currency;
  stock: number;
}

export class CatalogService {
  constructor(private readonly orm: MikroORM) {}

  /** One statement: the sku's unique constraint decides between insert and update. */
  async upsertProduct(input: UpsertProduct): Promise<ProductDto> {
    const em = this.orm.em.fork();
    const row = await firstRow(
      em,
      sql<ProductDto>`
        insert into product (id, created_at, updated_at, sku, name, unit_price, currency, stock)
        values (${newId()}, now(), now(), ${input.sku}, ${input.name}, ${input.unitPrice}, ${input.currency}, ${input.stock})
        on conflict (sku) do update set name = excluded.name, unit_price = excluded.unit_price,
          currency = excluded.currency, stock = excluded.stock, updated_at = now()
        returning id, sku, name, unit_price as "unitPrice", currency, stock, updated_at as "updatedAt"`,
    );
    return { ...row!, updatedAt: iso(row!.updatedAt) };
  }
}
