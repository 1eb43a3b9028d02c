//! The [`PriceList`] port on the AWS Price List API (`pricing:GetProducts`). The API is
//! served from us-east-1 (and two other regions) whatever region is priced, so the
//! client is pinned to us-east-1.

use crate::{describe, is_transient};
use async_trait::async_trait;
use aws_sdk_pricing::types::{Filter, FilterType};
use aws_sdk_pricing::Client;
use ferry_core::ports::{PriceList, PriceListError, ProductQuery};

pub struct PricingApi {
    client: Client,
}

impl PricingApi {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    pub fn from_sdk(sdk: &aws_config::SdkConfig) -> Self {
        let config = aws_sdk_pricing::config::Builder::from(sdk)
            .region(aws_sdk_pricing::config::Region::new("us-east-1"))
            .build();
        Self::new(Client::from_conf(config))
    }
}

#[async_trait]
impl PriceList for PricingApi {
    async fn products(&self, query: &ProductQuery) -> Result<Vec<String>, PriceListError> {
        let filters = query
            .filters
            .iter()
            .map(|(field, value)| {
                Filter::builder()
                    .r#type(FilterType::TermMatch)
                    .field(field)
                    .value(value)
                    .build()
                    .map_err(|e| PriceListError::Refused(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut pages = self
            .client
            .get_products()
            .service_code(&query.service_code)
            .format_version("aws_v1")
            .set_filters(Some(filters))
            .max_results(100)
            .into_paginator()
            .send();
        let mut documents = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|error| {
                if is_transient(&error) {
                    PriceListError::Unavailable(describe(&error))
                } else {
                    PriceListError::Refused(describe(&error))
                }
            })?;
            documents.extend(page.price_list().iter().cloned());
        }
        Ok(documents)
    }
}
